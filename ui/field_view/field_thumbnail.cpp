#include "ui/field_view/field_thumbnail.h"

#include <algorithm>
#include <cmath>

namespace dsui {

std::shared_ptr<FieldImage> make_field_image(std::vector<float> values, int n, bool is_contrast) {
  auto image = std::make_shared<FieldImage>();
  image->n = n;
  image->is_contrast = is_contrast;
  image->values = std::move(values);
  PrecomputeDisplayRanges(*image);
  return image;
}

std::shared_ptr<FieldImage> make_field_image(const ds::Field2D& field) {
  return make_field_image(std::vector<float>(field.values.begin(), field.values.end()), field.n,
                          field.kind == ds::FieldKind::Contrast);
}

namespace {
// What the thumbnail colours: log10 of the density (empty pixels at -10) or the values.
std::vector<float> displayed(const FieldImage& image, bool log_scale) {
  std::vector<float> v(image.values.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!log_scale) {
      v[i] = std::isfinite(image.values[i]) ? image.values[i] : 0.0f;
      continue;
    }
    const float d = image.is_contrast ? 1.0f + image.values[i] : image.values[i];
    v[i] = d > 0 && std::isfinite(d) ? std::log10(d) : -10.0f;
  }
  return v;
}

std::pair<float, float> window_of(std::vector<float> v) {
  if (v.empty()) return {0.0f, 1.0f};
  std::sort(v.begin(), v.end());
  return {v[v.size() / 100], v[v.size() * 99 / 100]};
}

QImage colour(const std::vector<float>& v, int n, float lo, float hi) {
  QImage out(n, n, QImage::Format_RGB32);
  if (v.empty()) return out;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const float t =
          std::clamp((v[std::size_t(i * n + j)] - lo) / std::max(1e-6f, hi - lo), 0.0f, 1.0f);
      const int r = int(68 + t * (253 - 68)), g = int(1 + t * (231 - 1)),
                b = int(84 + t * (37 - 84));
      out.setPixel(j, n - 1 - i, qRgb(r, g, b));
    }
  return out;
}
}  // namespace

QImage field_thumbnail(const FieldImage& image, bool log_scale) {
  const std::vector<float> v = displayed(image, log_scale);
  const auto [lo, hi] = window_of(v);
  return colour(v, image.n, lo, hi);
}

QImage field_thumbnail(const FieldImage& image, bool log_scale, float lo, float hi) {
  return colour(displayed(image, log_scale), image.n, lo, hi);
}

std::pair<float, float> thumbnail_window(const FieldImage& image, bool log_scale) {
  return window_of(displayed(image, log_scale));
}

}  // namespace dsui
