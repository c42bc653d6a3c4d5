// Colour maps of the field viewport, indexed like ds::Colormap in
// core/include/diffuscope/registries.h: 0 viridis, 1 magma, 2 grey, 3 redblue.
// Each map is nine control points at t = 0, 1/8, ..., 1, interpolated linearly in sRGB.

const vec3 kViridis[9] = vec3[9](
    vec3(0x44, 0x01, 0x54) / 255.0, vec3(0x47, 0x2d, 0x7b) / 255.0,
    vec3(0x3b, 0x52, 0x8b) / 255.0, vec3(0x2c, 0x72, 0x8e) / 255.0,
    vec3(0x21, 0x91, 0x8c) / 255.0, vec3(0x28, 0xae, 0x80) / 255.0,
    vec3(0x5e, 0xc9, 0x62) / 255.0, vec3(0xad, 0xdc, 0x30) / 255.0,
    vec3(0xfd, 0xe7, 0x25) / 255.0);

const vec3 kMagma[9] = vec3[9](
    vec3(0x00, 0x00, 0x04) / 255.0, vec3(0x1c, 0x10, 0x44) / 255.0,
    vec3(0x4f, 0x12, 0x7b) / 255.0, vec3(0x81, 0x25, 0x81) / 255.0,
    vec3(0xb5, 0x36, 0x7a) / 255.0, vec3(0xe5, 0x50, 0x64) / 255.0,
    vec3(0xfb, 0x87, 0x61) / 255.0, vec3(0xfe, 0xc2, 0x87) / 255.0,
    vec3(0xfc, 0xfd, 0xbf) / 255.0);

// ColorBrewer RdBu (9 classes), reversed so that low values are blue; white at t = 0.5.
const vec3 kRedBlue[9] = vec3[9](
    vec3(0x21, 0x66, 0xac) / 255.0, vec3(0x43, 0x93, 0xc3) / 255.0,
    vec3(0x92, 0xc5, 0xde) / 255.0, vec3(0xd1, 0xe5, 0xf0) / 255.0,
    vec3(0xf7, 0xf7, 0xf7) / 255.0, vec3(0xfd, 0xdb, 0xc7) / 255.0,
    vec3(0xf4, 0xa5, 0x82) / 255.0, vec3(0xd6, 0x60, 0x4d) / 255.0,
    vec3(0xb2, 0x18, 0x2b) / 255.0);

vec3 ramp9(const vec3 stops[9], float t) {
  float x = clamp(t, 0.0, 1.0) * 8.0;
  int i = min(int(floor(x)), 7);
  return mix(stops[i], stops[i + 1], x - float(i));
}

vec3 colormap(int index, float t) {
  if (index == 0) return ramp9(kViridis, t);
  if (index == 1) return ramp9(kMagma, t);
  if (index == 3) return ramp9(kRedBlue, t);
  return vec3(clamp(t, 0.0, 1.0));
}
