#include "diffuscope/infer/baselines/calibration.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ostream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/diagnostics/diagnostics.h"
#include "diffuscope/random.h"
#include "diffuscope/stats/ensemble.h"

namespace ds {

namespace {

constexpr std::uint64_t kFieldStream = 0x63616c;        // "cal": the stream choosing the fields
constexpr std::uint64_t kReferenceOffset = 1ull << 32;  // reference chains: stream i + 2^32

struct Moments {
  double mean = 0.0, sd = 0.0;
};
// Mean and sd (ddof 1; NaN with fewer than 2 values) of the finite values.
Moments moments(const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (v.empty()) return {nan, nan};
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  if (v.size() < 2) return {mean, nan};
  double s = 0.0;
  for (double x : v) s += (x - mean) * (x - mean);
  return {mean, std::sqrt(s / double(v.size() - 1))};
}

std::vector<double> pooled(const Chains& chains, std::size_t p) {
  return parameter_draws(chains, p).values;
}

nlohmann::json number(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json();
}

McmcResult sample_field(const LogDensity& density, const NutsSettings& base, std::uint64_t stream,
                        const JobContext& job) {
  NutsSettings s = base;
  s.run.seed = mix_seed(base.run.seed, stream);
  return sample_nuts(density, s, job);
}

}  // namespace

std::vector<std::size_t> choose_calibration_fields(std::size_t available, std::size_t count,
                                                   std::uint64_t seed) {
  if (count == 0) throw InvalidArgument("calibration: choose at least one field");
  if (count > available)
    throw InvalidArgument("calibration: " + std::to_string(count) +
                          " fields asked for, the dataset holds " + std::to_string(available));
  std::vector<std::size_t> order(available);
  std::iota(order.begin(), order.end(), std::size_t(0));
  Rng rng(seed, kFieldStream);
  for (std::size_t i = 0; i < count; ++i)
    std::swap(order[i], order[i + std::size_t(rng.below(available - i))]);
  order.resize(count);
  std::sort(order.begin(), order.end());
  return order;
}

FieldCalibration check_field(const CalibrationField& field, const Chains& draws,
                             const Chains* reference) {
  const std::size_t d = draws.parameters();
  if (field.truth.size() < d)
    throw InvalidArgument("calibration: field " + std::to_string(field.index) + " has " +
                          std::to_string(field.truth.size()) + " true parameters for " +
                          std::to_string(d) + " sampled ones");
  if (reference && reference->parameters() != d)
    throw InvalidArgument("calibration: the reference posterior has another dimension");
  FieldCalibration out;
  out.index = field.index;
  for (auto flag : draws.diverging) out.divergences += flag ? 1 : 0;
  for (std::size_t p = 0; p < d; ++p) {
    ParameterCheck c;
    const std::vector<double> v = pooled(draws, p);
    const Moments m = moments(v);
    c.truth = field.truth[p];
    c.mean = m.mean;
    c.sd = m.sd;
    c.z = (m.mean - c.truth) / m.sd;
    const double inner_tail = 50.0 * (1.0 - kCalibrationInner);
    const double outer_tail = 50.0 * (1.0 - kCalibrationOuter);
    c.inner_lo = percentile(v, inner_tail);
    c.inner_hi = percentile(v, 100.0 - inner_tail);
    c.outer_lo = percentile(v, outer_tail);
    c.outer_hi = percentile(v, 100.0 - outer_tail);
    c.inside_inner = c.truth >= c.inner_lo && c.truth <= c.inner_hi;
    c.inside_outer = c.truth >= c.outer_lo && c.truth <= c.outer_hi;
    const ChainDraws chain_draws = parameter_draws(draws, p);
    c.r_hat = rhat(chain_draws);
    c.ess_bulk = ess_bulk(chain_draws);
    if (reference) {
      c.reference_sd = moments(pooled(*reference, p)).sd;
      c.width_ratio = c.sd / c.reference_sd;
    }
    out.parameters.push_back(c);
  }
  return out;
}

std::vector<ParameterCalibration> summarize_calibration(
    const std::vector<std::string>& names, const std::vector<FieldCalibration>& fields) {
  std::vector<ParameterCalibration> out;
  const double k = double(fields.size());
  for (std::size_t p = 0; p < names.size(); ++p) {
    ParameterCalibration s;
    s.name = names[p];
    s.fields = fields.size();
    std::vector<double> z, ratio;
    double inner = 0.0, outer = 0.0;
    for (const auto& f : fields) {
      const ParameterCheck& c = f.parameters.at(p);
      inner += c.inside_inner ? 1.0 : 0.0;
      outer += c.inside_outer ? 1.0 : 0.0;
      z.push_back(c.z);
      ratio.push_back(c.width_ratio);
    }
    if (k > 0) {
      s.inner_coverage = inner / k;
      s.outer_coverage = outer / k;
      s.inner_se = std::sqrt(s.inner_coverage * (1.0 - s.inner_coverage) / k);
      s.outer_se = std::sqrt(s.outer_coverage * (1.0 - s.outer_coverage) / k);
      s.inner_nominal_se = std::sqrt(kCalibrationInner * (1.0 - kCalibrationInner) / k);
      s.outer_nominal_se = std::sqrt(kCalibrationOuter * (1.0 - kCalibrationOuter) / k);
    }
    const Moments mz = moments(z), mr = moments(ratio);
    s.z_mean = mz.mean;
    s.z_sd = mz.sd;
    s.width_ratio_mean = mr.mean;
    s.width_ratio_sd = mr.sd;
    out.push_back(s);
  }
  return out;
}

CalibrationResult run_calibration(const std::vector<CalibrationField>& fields,
                                  const PosteriorFactory& posterior,
                                  const PosteriorFactory& reference,
                                  const CalibrationSettings& settings, const JobContext& job,
                                  const PartialResultCallback<FieldCalibration>& on_field) {
  if (fields.empty()) throw InvalidArgument("calibration: no fields given");
  if (!posterior) throw InvalidArgument("calibration: no posterior source given");
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t phases = reference ? 2 : 1, unit = 1000;
  const std::int64_t total = std::int64_t(fields.size()) * phases * unit;
  CalibrationResult result;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    job.check_cancelled();
    const auto field_start = std::chrono::steady_clock::now();
    const CalibrationField& field = fields[i];
    const std::string what = "field " + std::to_string(i + 1) + "/" +
                             std::to_string(fields.size()) + " (index " +
                             std::to_string(field.index) + ")";
    // Each sampling run reports into its slice of the overall progress.
    auto phase_job = [&](std::int64_t phase, const std::string& label) {
      const std::int64_t base = (std::int64_t(i) * phases + phase) * unit;
      return JobContext(
          [&job, base, total, label, unit](const Progress& p) {
            job.report(base + std::int64_t(p.fraction() * double(unit)), total, label);
          },
          job.token());
    };
    job.report(std::int64_t(i) * phases * unit, total, what);
    const std::shared_ptr<const LogDensity> density = posterior(field);
    if (!density) throw InvalidArgument("calibration: no posterior for " + what);
    const McmcResult run = sample_field(*density, settings.nuts, field.index, phase_job(0, what));
    McmcResult ref;
    if (reference) {
      const std::shared_ptr<const LogDensity> ref_density = reference(field);
      if (!ref_density) throw InvalidArgument("calibration: no reference posterior for " + what);
      ref = sample_field(*ref_density, settings.nuts, field.index + kReferenceOffset,
                         phase_job(1, what + ", reference"));
    }
    if (result.names.empty()) result.names = run.chains.names;
    FieldCalibration checked = check_field(field, run.chains, reference ? &ref.chains : nullptr);
    checked.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - field_start).count();
    result.divergences += checked.divergences;
    result.fields.push_back(checked);
    if (on_field) on_field(checked);
  }
  job.report(total, total, "calibration done");
  result.summary = summarize_calibration(result.names, result.fields);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

void write_calibration_json(const std::string& path, const CalibrationResult& result,
                            const std::string& settings_json) {
  nlohmann::ordered_json j;
  try {
    j["settings"] = nlohmann::ordered_json::parse(settings_json);
  } catch (const std::exception& e) {
    throw InvalidArgument(std::string("calibration: the settings are not JSON: ") + e.what());
  }
  j["intervals"] = {kCalibrationInner, kCalibrationOuter};
  j["fields_count"] = result.fields.size();
  j["divergences"] = result.divergences;
  j["seconds"] = result.seconds;
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  for (const auto& s : result.summary)
    summary[s.name] = {{"fields", s.fields},
                       {"coverage_68", number(s.inner_coverage)},
                       {"coverage_68_se", number(s.inner_se)},
                       {"coverage_68_nominal_se", number(s.inner_nominal_se)},
                       {"coverage_95", number(s.outer_coverage)},
                       {"coverage_95_se", number(s.outer_se)},
                       {"coverage_95_nominal_se", number(s.outer_nominal_se)},
                       {"z_mean", number(s.z_mean)},
                       {"z_sd", number(s.z_sd)},
                       {"width_ratio_mean", number(s.width_ratio_mean)},
                       {"width_ratio_sd", number(s.width_ratio_sd)}};
  j["summary"] = summary;
  nlohmann::ordered_json fields = nlohmann::ordered_json::array();
  for (const auto& f : result.fields) {
    nlohmann::ordered_json entry = {
        {"index", f.index}, {"divergences", f.divergences}, {"seconds", f.seconds}};
    for (std::size_t p = 0; p < f.parameters.size() && p < result.names.size(); ++p) {
      const ParameterCheck& c = f.parameters[p];
      entry[result.names[p]] = {{"truth", c.truth},
                                {"mean", number(c.mean)},
                                {"sd", number(c.sd)},
                                {"z", number(c.z)},
                                {"interval_68", {number(c.inner_lo), number(c.inner_hi)}},
                                {"interval_95", {number(c.outer_lo), number(c.outer_hi)}},
                                {"inside_68", c.inside_inner},
                                {"inside_95", c.inside_outer},
                                {"r_hat", number(c.r_hat)},
                                {"ess_bulk", number(c.ess_bulk)},
                                {"reference_sd", number(c.reference_sd)},
                                {"width_ratio", number(c.width_ratio)}};
    }
    fields.push_back(entry);
  }
  j["fields"] = fields;
  write_file_atomically(path, [&](std::ostream& out) { out << j.dump(1) << '\n'; });
}

}  // namespace ds
