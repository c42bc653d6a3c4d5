#version 330 core
// Field value -> colour. The display window (u_lo, u_hi) and the log floor come from
// dsui::ComputeDisplayRange, which applies the same scaling on the CPU.

// FieldViewport replaces the next line with shaders/colormaps.glsl when it builds the program.
#pragma include "colormaps.glsl"

in vec2 v_uv;
out vec4 frag_colour;

uniform sampler2D u_field;  // GL_R32F, sampled with GL_NEAREST so pixels stay pixels
uniform int u_log_scale;    // ds::FieldScaling::Log
uniform int u_is_contrast;  // values are delta; the density is 1 + delta
uniform float u_log_floor;
uniform float u_lo;
uniform float u_hi;
uniform int u_colormap;     // ds::Colormap index

void main() {
  float v = texture(u_field, v_uv).r;
  if (isnan(v)) {
    // Missing data must not look like a valid value of any map.
    frag_colour = vec4(0.3, 0.3, 0.3, 1.0);
    return;
  }
  if (u_log_scale != 0) {
    float density = u_is_contrast != 0 ? v + 1.0 : v;
    v = log(max(density, u_log_floor)) * 0.43429448190325176;  // log10
  }
  float t = clamp((v - u_lo) / (u_hi - u_lo), 0.0, 1.0);
  frag_colour = vec4(colormap(u_colormap, t), 1.0);
}
