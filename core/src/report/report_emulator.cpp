// The emulator blocks of a report (report.h): LH cosmologies, the 1P set and the CV set.
#include <algorithm>
#include <cmath>

#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "diffuscope/mock/sets.h"
#include "diffuscope/stats/binning.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/histogram.h"
#include "report_internal.h"

namespace ds::report_detail {

namespace {

bool all_finite(const float* f, std::size_t size) {
  for (std::size_t j = 0; j < size; ++j)
    if (!std::isfinite(f[j])) return false;
  return true;
}

// The spectrum of a generated field, or false when the field cannot be measured (non-finite
// values, a non-positive mean density).
bool try_spectrum(const float* f, const EmulatorContext& c, PowerSpectrum& out) {
  const std::size_t size = std::size_t(c.n) * c.n;
  if (!all_finite(f, size)) return false;
  try {
    out = field_spectrum(f, c.n, c.box, c.kind);
  } catch (const InvalidArgument&) {
    return false;
  }
  for (double p : out.pk)
    if (!std::isfinite(p)) return false;
  return true;
}

std::vector<float> generate(const EmulatorContext& c, const std::vector<double>& thetas,
                            int per_theta, bool fixed_seed, std::uint64_t seed) {
  FieldSampleRequest request;
  request.thetas = thetas;
  request.per_theta = per_theta;
  request.n = c.n;
  request.seed = seed;
  request.fixed_seed = fixed_seed;
  request.physical = true;
  request.sampler = c.settings->sampler;
  // clip_x0 < 0: automatic, the model's data range. A log10-minmax model's maps live in [-1, 1],
  // so clipping the predicted x0 there only removes overshoots; an affine (standardised) or
  // identity model's values have no such bound, and a clip at 1 would cut a GRF's tails (a GRF
  // model's emulated P(k) came out at half the mocks').
  if (request.sampler.clip_x0 < 0.0)
    request.sampler.clip_x0 =
        c.model->transform.kind == FieldTransformKind::Log10MinMax ? 1.0 : 0.0;
  return sample_fields(*c.model, request, {}, c.cancel);
}

Json envelope_json(const Envelope& e) {
  return Json{{"mean", e.mean}, {"median", e.median}, {"lower", e.lower}, {"upper", e.upper}};
}

}  // namespace

Json emulator_lh_block(const EmulatorContext& c, const std::vector<double>& theta,
                       const std::vector<const float*>& mocks, std::uint64_t seed) {
  const std::size_t size = std::size_t(c.n) * c.n;
  const int generated_count = c.settings->generated_per_cosmology;
  SampleSet mock_pk, generated_pk;
  std::vector<double> k;
  std::vector<double> mock_values, generated_values;
  for (const float* f : mocks) {
    const PowerSpectrum ps = field_spectrum(f, c.n, c.box, c.kind);
    k = ps.k;
    mock_pk.push_back(ps.pk);
    histogram_values(f, size, c.kind, mock_values);
  }
  const std::vector<float> fields = generate(c, theta, generated_count, false, seed);
  int finite = 0;
  for (int g = 0; g < generated_count; ++g) {
    const float* f = fields.data() + std::size_t(g) * size;
    PowerSpectrum ps;
    if (!try_spectrum(f, c, ps)) continue;
    ++finite;
    generated_pk.push_back(ps.pk);
    histogram_values(f, size, c.kind, generated_values);
  }
  const EnsembleComparison cmp = compare_ensembles(generated_pk, mock_pk);
  Json j;
  j["theta"] = theta;
  j["mocks"] = mocks.size();
  j["generated"] = generated_count;
  j["generated_finite"] = finite;
  j["seed"] = seed;
  j["k"] = k;
  j["mock_pk"] = envelope_json(cmp.reference);
  j["generated_pk"] = finite > 0 ? envelope_json(cmp.emulated) : Json();
  j["ratio"] = cmp.ratio;
  j["mock_ratio_lower"] = cmp.reference_ratio_lower;
  j["mock_ratio_upper"] = cmp.reference_ratio_upper;
  j["reduced_chi2"] = finite > 0 ? cmp.reduced_chi2 : std::numeric_limits<double>::infinity();
  j["reduced_chi2_sd"] = cmp.reduced_chi2_sd;
  j["loo_reduced_chi2"] = cmp.reference_reduced_chi2;
  j["loo_reduced_chi2_sd"] = cmp.reference_reduced_chi2_sd;
  // Histograms on the range of the mocks' values (pooled over the cosmology's fields).
  const auto [lo_it, hi_it] = std::minmax_element(mock_values.begin(), mock_values.end());
  const double lo = *lo_it, hi = *hi_it > *lo_it ? *hi_it : *lo_it + 1.0;
  const int bins = c.settings->histogram_bins;
  const Histogram hm = density_histogram(mock_values, lo, hi, bins);
  std::vector<double> hg(std::size_t(bins), 0.0);
  double outside = 1.0;
  try {
    const Histogram h = density_histogram(generated_values, lo, hi, bins);
    hg = h.density;
    outside = generated_values.empty() ? 1.0 : double(h.outside) / double(generated_values.size());
  } catch (const InvalidArgument&) {
  }
  j["histogram"] = {{"quantity", c.kind == FieldKind::Density ? "log10 density" : "contrast"},
                    {"edges", hm.edges},
                    {"mocks", hm.density},
                    {"generated", hg},
                    {"generated_outside_fraction", outside}};
  return j;
}

Json emulator_one_p_block(const EmulatorContext& c, const Dataset& mocks, int values, int seeds,
                          std::uint64_t seed) {
  const std::size_t size = std::size_t(c.n) * c.n;
  const int fid = values / 2;
  std::vector<double> thetas;
  for (int p = 0; p < 2; ++p)
    for (int v = 0; v < values; ++v) {
      const std::size_t i = std::size_t((p * values + v) * seeds);
      thetas.push_back(mocks.param(i, 0));
      thetas.push_back(mocks.param(i, 1));
    }
  const std::vector<float> fields = generate(c, thetas, seeds, true, seed);
  Json j;
  j["values"] = values;
  j["seeds"] = seeds;
  j["seed"] = seed;
  j["parameters"] = Json::array();
  std::vector<double> k;
  for (int p = 0; p < 2; ++p) {
    Json pj;
    pj["name"] = p == 0 ? "Omega_m" : "sigma_8";
    pj["curves"] = Json::array();
    for (int v = 0; v < values; ++v) {
      SampleSet mock_num, mock_den, gen_num, gen_den;
      for (int m = 0; m < seeds; ++m) {
        const std::size_t i = std::size_t((p * values + v) * seeds + m);
        const std::size_t f = std::size_t((p * values + fid) * seeds + m);
        const PowerSpectrum a = field_spectrum(mocks.sample(i), c.n, c.box, c.kind);
        k = a.k;
        mock_num.push_back(a.pk);
        mock_den.push_back(field_spectrum(mocks.sample(f), c.n, c.box, c.kind).pk);
        PowerSpectrum ga, gf;
        if (try_spectrum(fields.data() + i * size, c, ga) &&
            try_spectrum(fields.data() + f * size, c, gf)) {
          gen_num.push_back(ga.pk);
          gen_den.push_back(gf.pk);
        }
      }
      const Envelope me = ensemble_envelope(ratio_to_fiducial(mock_num, mock_den));
      Json curve;
      curve["value"] = thetas[std::size_t(2 * (p * values + v) + p)];
      curve["mock_ratio"] = envelope_json(me);
      curve["generated_pairs"] = gen_num.size();
      curve["generated_ratio"] =
          gen_num.empty() ? Json()
                          : envelope_json(ensemble_envelope(ratio_to_fiducial(gen_num, gen_den)));
      pj["curves"].push_back(curve);
    }
    j["parameters"].push_back(pj);
  }
  j["k"] = k;
  return j;
}

Json emulator_cv_block(const EmulatorContext& c, const Dataset& mocks, int generated,
                       std::uint64_t seed) {
  const std::size_t size = std::size_t(c.n) * c.n;
  SampleSet mock_pk, gen_pk, mock_binned, gen_binned;
  std::vector<double> k, k_binned;
  const int bins = c.settings->cv_bins;
  for (std::size_t i = 0; i < mocks.count(); ++i) {
    const PowerSpectrum ps = field_spectrum(mocks.sample(i), c.n, c.box, c.kind);
    k = ps.k;
    mock_pk.push_back(ps.pk);
    const PowerSpectrum b = rebin_log(ps, bins);
    k_binned = b.k;
    mock_binned.push_back(b.pk);
  }
  const std::vector<float> fields =
      generate(c, {kFiducialOmegaM, kFiducialSigma8}, generated, false, seed);
  for (int g = 0; g < generated; ++g) {
    PowerSpectrum ps;
    if (!try_spectrum(fields.data() + std::size_t(g) * size, c, ps)) continue;
    gen_pk.push_back(ps.pk);
    gen_binned.push_back(rebin_log(ps, bins).pk);
  }
  Json j;
  j["theta"] = {kFiducialOmegaM, kFiducialSigma8};
  j["mocks"] = mocks.count();
  j["generated"] = generated;
  j["generated_finite"] = gen_pk.size();
  j["seed"] = seed;
  j["k"] = k;
  const ScatterWithError ms = standard_deviation_with_jackknife(mock_pk);
  j["mock_std"] = ms.std;
  j["mock_std_error"] = ms.std_error;
  j["k_binned"] = k_binned;
  j["mock_correlation"] = correlation_matrix(mock_binned);
  if (gen_pk.size() >= 3) {
    const ScatterWithError gs = standard_deviation_with_jackknife(gen_pk);
    std::vector<double> ratio, ratio_error;
    for (std::size_t b = 0; b < gs.std.size(); ++b) {
      ratio.push_back(gs.std[b] / ms.std[b]);
      ratio_error.push_back(ratio.back() *
                            std::hypot(gs.std_error[b] / gs.std[b], ms.std_error[b] / ms.std[b]));
    }
    j["generated_std"] = gs.std;
    j["std_ratio"] = ratio;
    j["std_ratio_error"] = ratio_error;
    try {
      j["generated_correlation"] = correlation_matrix(gen_binned);
    } catch (const InvalidArgument&) {
      j["generated_correlation"] = Json();
    }
  }
  return j;
}

}  // namespace ds::report_detail
