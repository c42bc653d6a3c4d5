// Density-normalised histograms of (log10) fields on a fixed range, as in the Diffusion-HMC
// figures (100 bins of log10 density over [9.5, 13.5] for CAMELS Mcdm maps).
#pragma once

#include <cstdint>
#include <vector>

#include "diffuscope/data/field.h"
#include "diffuscope/registries.h"

namespace ds {

struct Histogram {
  std::vector<double> edges;         // bins + 1 edges, equally spaced
  std::vector<std::int64_t> counts;  // values in each bin
  std::vector<double> density;       // counts / (in-range total * width): integrates to 1
  std::int64_t outside = 0;          // values below the first or above the last edge
};

// numpy.histogram(values, bins, (lo, hi), density=True) semantics: half-open bins [e_b, e_b+1)
// except the last, which includes hi; values outside [lo, hi] are counted in `outside` only.
// Throws InvalidArgument for bins < 1, lo >= hi, NaN/Inf values, or no value inside the range.
Histogram density_histogram(const std::vector<double>& values, double lo, double hi, int bins);

// The histogram of log10 of the density of a field. scaling Log: the values already are log10
// of the density (a model's output space); Linear: log10 is taken here (of 1 + delta for a
// Contrast field), and a non-positive density is an InvalidArgument naming the pixel.
Histogram log10_density_histogram(const Field2D& field, FieldScaling scaling, double lo = 9.5,
                                  double hi = 13.5, int bins = 100);

}  // namespace ds
