// Field images made on workers and small pictures of them (ensemble grids, observation previews).
#pragma once

#include <QImage>
#include <memory>
#include <utility>
#include <vector>

#include "diffuscope/data/field.h"
#include "ui/field_view/field_image.h"

namespace dsui {

// A displayable image with its colour windows precomputed (call on the worker that made it).
std::shared_ptr<FieldImage> make_field_image(std::vector<float> values, int n, bool is_contrast);
std::shared_ptr<FieldImage> make_field_image(const ds::Field2D& field);

// n x n pixels: log10 of the density (1 + delta for a contrast), or the values themselves when
// `log_scale` is false (a noisy diffusion state), over their 1-99% range, on a short viridis-like
// ramp; row 0 of the field at the bottom, as the field viewport draws it.
QImage field_thumbnail(const FieldImage& image, bool log_scale = true);
// The same with a given colour window [lo, hi] of the displayed quantity (log10 density when
// log_scale), so that two fields can be shown on one scale; thumbnail_window gives an image's own
// 1-99% window.
QImage field_thumbnail(const FieldImage& image, bool log_scale, float lo, float hi);
std::pair<float, float> thumbnail_window(const FieldImage& image, bool log_scale = true);

}  // namespace dsui
