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

QImage field_thumbnail(const FieldImage& image, bool log_scale) {
  std::vector<float> v(image.values.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!log_scale) {
      v[i] = std::isfinite(image.values[i]) ? image.values[i] : 0.0f;
      continue;
    }
    const float d = image.is_contrast ? 1.0f + image.values[i] : image.values[i];
    v[i] = d > 0 && std::isfinite(d) ? std::log10(d) : -10.0f;
  }
  QImage out(image.n, image.n, QImage::Format_RGB32);
  if (v.empty()) return out;
  std::vector<float> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  const float lo = sorted[sorted.size() / 100], hi = sorted[sorted.size() * 99 / 100];
  for (int i = 0; i < image.n; ++i)
    for (int j = 0; j < image.n; ++j) {
      const float t =
          std::clamp((v[std::size_t(i * image.n + j)] - lo) / std::max(1e-6f, hi - lo), 0.0f, 1.0f);
      const int r = int(68 + t * (253 - 68)), g = int(1 + t * (231 - 1)),
                b = int(84 + t * (37 - 84));
      out.setPixel(j, image.n - 1 - i, qRgb(r, g, b));
    }
  return out;
}

}  // namespace dsui
