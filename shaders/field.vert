#version 330 core
// The field quad: a unit square whose corners the CPU places in clip space (zoom, pan and the
// letterbox that keeps the field square all live in u_rect).

layout(location = 0) in vec2 a_corner;  // (0,0) bottom-left .. (1,1) top-right
uniform vec4 u_rect;                    // clip-space x0, y0, x1, y1

out vec2 v_uv;

void main() {
  // Texture row 0 is the first row of FieldImage::values, which is drawn at the top.
  v_uv = vec2(a_corner.x, 1.0 - a_corner.y);
  gl_Position = vec4(mix(u_rect.xy, u_rect.zw, a_corner), 0.0, 1.0);
}
