#include "diffuscope/diffusion/emulator_check.h"

#include <cmath>
#include <map>

#include "diffuscope/error.h"
#include "diffuscope/stats/ensemble.h"
#include "diffuscope/stats/power_spectrum_2d.h"

namespace ds {

namespace {

std::vector<double> spectrum(const float* values, int n, double box, FieldKind kind) {
  Field2D field;
  field.n = n;
  field.box_size = box;
  field.kind = kind;
  field.values.assign(values, values + std::size_t(n) * n);
  return cut_at_nyquist(power_spectrum_2d(field), n, box).pk;
}

}  // namespace

std::vector<EmulatorCheckRow> check_emulator_power(const DiffusionModel2d& model,
                                                   const Dataset& reference,
                                                   const EmulatorCheckSettings& settings,
                                                   const JobContext& job) {
  if (reference.kind != SampleKind::Fields || reference.shape.size() != 3)
    throw InvalidArgument("emulator check: the reference set must hold 2D fields [M, N, N]");
  const int n = int(reference.shape[1]);
  require_field_size(model, n);
  const std::size_t p = model.parameter_count();
  if (reference.param_count() < p)
    throw InvalidArgument("emulator check: the reference set has " +
                          std::to_string(reference.param_count()) + " parameters, the model " +
                          std::to_string(p));
  if (settings.samples < 2) throw InvalidArgument("emulator check: need at least 2 samples");
  const double box = reference.box_size > 0 ? reference.box_size : 1.0;
  const FieldKind kind = model.transform.kind == FieldTransformKind::Log10MinMax
                             ? FieldKind::Density
                             : FieldKind::Contrast;
  const auto groups = group_by_parameters(reference, p);
  std::vector<EmulatorCheckRow> rows;
  std::int64_t done = 0, total = 0;
  for (const auto& [theta, members] : groups) total += members.size() >= 3 ? 1 : 0;
  if (total == 0)
    throw InvalidArgument(
        "emulator check: no cosmology of the reference set has 3 or more fields "
        "(make one with `mock fields --set single --per-cosmo 20` or --set cv)");
  for (const auto& [theta, members] : groups) {
    if (members.size() < 3) continue;
    job.check_cancelled();
    job.report(done, total, "cosmology " + std::to_string(done + 1) + "/" + std::to_string(total));
    EmulatorCheckRow row;
    row.theta = theta;
    row.mocks = int(members.size());
    SampleSet mocks;
    for (auto i : members) mocks.push_back(spectrum(reference.sample(i), n, box, kind));

    FieldSampleRequest request;
    request.thetas = theta;
    request.per_theta = settings.samples;
    request.n = n;
    request.seed = settings.seed + std::uint64_t(done) * 1000003ULL;
    request.physical = true;
    request.sampler = settings.sampler;
    const auto fields = sample_fields(model, request, {}, job);
    SampleSet generated;
    const std::size_t size = std::size_t(n) * n;
    for (int s = 0; s < settings.samples; ++s) {
      const float* f = fields.data() + std::size_t(s) * size;
      bool finite = true;
      for (std::size_t j = 0; j < size && finite; ++j) finite = std::isfinite(f[j]);
      if (finite) generated.push_back(spectrum(f, n, box, kind));
    }
    row.generated = int(generated.size());
    reduced_chi2_mean_sd(leave_one_out_chi2_diagonal(mocks), row.chi2_loo, row.chi2_loo_sd);
    const auto k = [&] {
      Field2D field;
      field.n = n;
      field.box_size = box;
      field.kind = kind;
      field.values.assign(reference.sample(members[0]), reference.sample(members[0]) + size);
      return cut_at_nyquist(power_spectrum_2d(field), n, box).k;
    }();
    row.k = k;
    if (!generated.empty()) {
      reduced_chi2_mean_sd(chi2_diagonal(generated, mocks), row.chi2_generated, row.chi2_generated_sd);
      const auto g = ensemble_envelope(generated).mean;
      const auto m = ensemble_envelope(mocks).mean;
      const auto sd = standard_deviation_with_jackknife(mocks).std;
      for (std::size_t b = 0; b < g.size(); ++b) {
        row.ratio.push_back(g[b] / m[b]);
        row.ratio_error.push_back(sd[b] / m[b] / std::sqrt(double(mocks.size())));
      }
    } else {
      row.chi2_generated = row.chi2_generated_sd = std::numeric_limits<double>::infinity();
    }
    rows.push_back(std::move(row));
    ++done;
  }
  job.report(total, total, "done");
  return rows;
}

}  // namespace ds
