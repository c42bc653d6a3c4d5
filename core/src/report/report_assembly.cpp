// The assembly of a report (report.h): report.json, the CSV tables and report.md, rebuilt from the
// block and field files run_report wrote (report.cpp).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "diffuscope/infer/grids/grid_posterior.h"
#include "diffuscope/report/calibration_summary.h"
#include "diffuscope/report/report.h"
#include "diffuscope/runtime.h"
#include "report_internal.h"

namespace fs = std::filesystem;

namespace ds {

using report_detail::Json;
using report_detail::kParameterNames;
using report_detail::num;
using report_detail::nums;

namespace {

ReportParameterPosterior read_parameter(const Json& f, std::size_t p) {
  const Json& pj = f.at("posterior").at("parameters").at(p);
  ReportParameterPosterior r;
  r.truth = num(pj.at("truth"));
  r.mean = num(pj.at("mean"));
  r.sd = num(pj.at("sd"));
  r.z = num(pj.at("z"));
  r.rank = num(pj.at("rank"));
  r.inner_lo = num(pj.at("inner")[0]);
  r.inner_hi = num(pj.at("inner")[1]);
  r.outer_lo = num(pj.at("outer")[0]);
  r.outer_hi = num(pj.at("outer")[1]);
  r.inside_inner = pj.at("inside_inner").get<bool>();
  r.inside_outer = pj.at("inside_outer").get<bool>();
  if (f.contains("exact") && !f["exact"].is_null()) {
    const Json& ej = f["exact"].at("parameters").at(p);
    r.exact_mean = num(ej.at("mean"));
    r.exact_sd = num(ej.at("sd"));
    r.exact_inner_lo = num(ej.at("inner")[0]);
    r.exact_inner_hi = num(ej.at("inner")[1]);
  }
  return r;
}

Json summary_json(const ParameterCalibrationSummary& s) {
  Json j;
  j["name"] = s.name;
  j["fields"] = s.fields;
  j["coverage_68"] = s.inner_coverage;
  j["coverage_68_se"] = s.inner_se;
  j["coverage_68_nominal_se"] = s.inner_nominal_se;
  j["coverage_95"] = s.outer_coverage;
  j["coverage_95_se"] = s.outer_se;
  j["coverage_95_nominal_se"] = s.outer_nominal_se;
  j["mean_abs_z"] = s.mean_abs_z;
  j["z_mean"] = s.z_mean;
  j["z_sd"] = s.z_sd;
  j["bias"] = s.bias;
  j["relative_bias"] = s.relative_bias;
  j["mean_sd"] = s.mean_sd;
  j["rank_histogram"] = s.rank_histogram;
  j["expected_coverage"] = {{"levels", s.expected_coverage.levels},
                            {"coverage", s.expected_coverage.coverage},
                            {"nominal_se", s.expected_coverage.se}};
  j["exact_width_ratio_mean"] = s.width_ratio_mean;
  j["exact_width_ratio_sd"] = s.width_ratio_sd;
  j["exact_shift_mean"] = s.shift_mean;
  j["exact_shift_sd"] = s.shift_sd;
  j["exact_overlap_68_mean"] = s.overlap_mean;
  return j;
}

// ---------------------------------------------------------------------------------------------
// Assembly: report.json, CSVs, report.md from the block and field files.

struct Assembled {
  Json report;
  std::vector<std::string> figures;
};

Json load_required(const std::string& path) {
  Json j;
  if (!report_detail::read_json(path, j)) throw FileError(path, "missing report block");
  return j;
}

Assembled assemble(const std::string& dir, const Json& settings, const Json& inputs,
                   const std::vector<std::string>& emulator_files,
                   const std::vector<std::string>& field_files) {
  using report_detail::FigureBuilder;
  Assembled a;
  Json& r = a.report;
  r["format"] = "diffuscope-report";
  r["version"] = 1;
  r["diffuscope_version"] = library_versions().diffuscope;
  r["settings"] = settings;
  r["inputs"] = inputs;
  Json figures = Json::array();
  std::vector<std::string> headlines;

  // Emulator.
  std::vector<Json> lh, halo;
  Json one_p, cv;
  for (const auto& path : emulator_files) {
    Json j = load_required(path);
    const std::string kind = j.value("block", std::string());
    if (kind == "halo_lh") halo.push_back(std::move(j));
    if (kind == "lh") lh.push_back(std::move(j));
    if (kind == "1p") one_p = std::move(j);
    if (kind == "cv") cv = std::move(j);
  }
  if (!lh.empty()) {
    Json e;
    e["cosmologies"] = Json::array();
    std::vector<double> chi2, loo, om, s8, index;
    for (const auto& b : lh) {
      e["cosmologies"].push_back(b);
      chi2.push_back(num(b["reduced_chi2"]));
      loo.push_back(num(b["loo_reduced_chi2"]));
      om.push_back(num(b["theta"][0]));
      s8.push_back(num(b["theta"][1]));
      index.push_back(double(index.size()));
    }
    auto mean_of = [](const std::vector<double>& v) {
      double s = 0;
      for (double x : v) s += x;
      return s / double(v.size());
    };
    auto worst_of = [](const std::vector<double>& v) {
      return *std::max_element(v.begin(), v.end());
    };
    e["summary"] = {{"reduced_chi2_mean", mean_of(chi2)},
                    {"loo_reduced_chi2_mean", mean_of(loo)},
                    {"reduced_chi2_worst", worst_of(chi2)},
                    {"chi2_over_loo_worst", [&] {
                       double w = 0;
                       for (std::size_t i = 0; i < chi2.size(); ++i)
                         w = std::max(w, chi2[i] / loo[i]);
                       return w;
                     }()}};
    r["emulator"] = e;
    headlines.push_back(
        "Emulator P(k): reduced chi^2 of generated fields against the mocks, averaged over " +
        std::to_string(lh.size()) + " validation cosmologies, is " +
        report_detail::fixed(mean_of(chi2), 2) +
        " (the mocks' own leave-one-out value: " + report_detail::fixed(mean_of(loo), 2) +
        "; worst cosmology " + report_detail::fixed(worst_of(chi2), 2) + ").");
    {  // The stricter test: the ratio of mean spectra at the first, middle and last k bin.
      std::string text = "Emulator P(k) ratio generated / mocks (range over cosmologies):";
      const std::size_t bins = std::max<std::size_t>(1, lh[0]["ratio"].size());
      const std::pair<const char*, std::size_t> at[] = {
          {" first k bin ", 0}, {", middle ", bins / 2}, {", last ", bins - 1}};
      for (const auto& [label, b] : at) {
        double lo = 1e300, hi = -1e300;
        for (const auto& c : lh) {
          const double v = b < c["ratio"].size() ? num(c["ratio"][b]) : NAN;
          if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
        text += label + (lo <= hi ? report_detail::fixed(lo, 2) + "-" + report_detail::fixed(hi, 2)
                                  : std::string("n/a"));
      }
      headlines.push_back(text +
                          " (1 for a faithful emulator; the mocks' own 16-84% band is in "
                          "the emulator_pk figure).");
    }

    // Figure: P(k) and ratio per cosmology.
    FigureBuilder pk("emulator_pk", "P(k) of generated fields against mocks",
                     "Mean P(k) of the mocks (solid, 16-84% band) and of the generated fields "
                     "(dashed) at each validation cosmology; lower panel: generated / mock mean "
                     "with the mocks' own 16-84% band divided by their mean.");
    pk.layout("rows");
    const std::string k = pk.column("k", nums(lh[0]["k"]));
    pk.panel("P(k)", "k [h/Mpc]", "P(k) [(Mpc/h)^2]", true, true);
    for (std::size_t c = 0; c < lh.size(); ++c) {
      const std::string tag = "c" + std::to_string(c);
      const auto& b = lh[c];
      const std::string label = "(" + report_detail::fixed(num(b["theta"][0]), 3) + ", " +
                                report_detail::fixed(num(b["theta"][1]), 3) + ")";
      pk.series("mocks " + label, "line", k,
                pk.column(tag + "_mock_mean", nums(b["mock_pk"]["mean"])), int(c));
      if (!b["generated_pk"].is_null())
        pk.series("generated " + label, "dashed", k,
                  pk.column(tag + "_generated_mean", nums(b["generated_pk"]["mean"])), int(c));
      pk.column(tag + "_mock_lower", nums(b["mock_pk"]["lower"]));
      pk.column(tag + "_mock_upper", nums(b["mock_pk"]["upper"]));
    }
    pk.panel("ratio", "k [h/Mpc]", "P_generated / P_mocks", true, false);
    for (std::size_t c = 0; c < lh.size(); ++c) {
      const std::string tag = "c" + std::to_string(c);
      const auto& b = lh[c];
      const std::string lo = pk.column(tag + "_mock_ratio_lower", nums(b["mock_ratio_lower"]));
      const std::string hi = pk.column(tag + "_mock_ratio_upper", nums(b["mock_ratio_upper"]));
      if (c == 0) pk.series("mocks 16-84%", "band", k, "", int(c), lo, hi);
      pk.series("", "line", k, pk.column(tag + "_ratio", nums(b["ratio"])), int(c));
    }
    figures.push_back(pk.finish(dir));

    FigureBuilder ch("emulator_chi2", "Reduced chi^2 per validation cosmology",
                     "Diagonal reduced chi^2 (Diffusion-HMC eq. 10) of the generated fields' P(k) "
                     "against the mocks (mean and sd over fields) and of each mock against the "
                     "others (leave-one-out): a faithful emulator matches the second.");
    std::vector<double> chi2_sd, loo_sd, chi2_lo, chi2_hi, loo_lo, loo_hi, index_shift;
    for (std::size_t c = 0; c < lh.size(); ++c) {
      chi2_sd.push_back(num(lh[c]["reduced_chi2_sd"]));
      loo_sd.push_back(num(lh[c]["loo_reduced_chi2_sd"]));
      chi2_lo.push_back(chi2[c] - chi2_sd[c]);
      chi2_hi.push_back(chi2[c] + chi2_sd[c]);
      loo_lo.push_back(loo[c] - loo_sd[c]);
      loo_hi.push_back(loo[c] + loo_sd[c]);
      index_shift.push_back(double(c) + 0.15);
    }
    ch.column("omega_m", om);
    ch.column("sigma_8", s8);
    const std::string ix = ch.column("cosmology", index);
    const std::string ixs = ch.column("cosmology_shifted", index_shift);
    ch.panel("", "validation cosmology", "reduced chi^2", false, false);
    ch.series("generated", "errorbars", ix, ch.column("reduced_chi2", chi2), 0,
              ch.column("reduced_chi2_lo", chi2_lo), ch.column("reduced_chi2_hi", chi2_hi));
    ch.series("mocks (leave-one-out)", "errorbars", ixs, ch.column("loo_reduced_chi2", loo), 1,
              ch.column("loo_lo", loo_lo), ch.column("loo_hi", loo_hi));
    ch.column("reduced_chi2_sd", chi2_sd);
    ch.column("loo_reduced_chi2_sd", loo_sd);
    figures.push_back(ch.finish(dir));

    // Figure: pooled density histograms (first, middle and last validation cosmology).
    FigureBuilder hist("density_histogram", "One-point distribution",
                       "Density-normalised histograms of " +
                           lh[0]["histogram"]["quantity"].get<std::string>() +
                           " of the mocks (solid) and of the generated fields (dashed) at three "
                           "validation cosmologies (every cosmology is in report.json).");
    hist.panel("", lh[0]["histogram"]["quantity"].get<std::string>(), "density", false, false);
    std::vector<std::size_t> show{0};
    if (lh.size() > 2) show.push_back(lh.size() / 2);
    if (lh.size() > 1) show.push_back(lh.size() - 1);
    for (std::size_t c : show) {
      const std::string tag = "c" + std::to_string(c);
      const auto edges = nums(lh[c]["histogram"]["edges"]);
      std::vector<double> centres;
      for (std::size_t b = 0; b + 1 < edges.size(); ++b)
        centres.push_back(0.5 * (edges[b] + edges[b + 1]));
      const std::string x = hist.column(tag + "_centre", centres);
      const std::string label =
          "(" + report_detail::fixed(om[c], 3) + ", " + report_detail::fixed(s8[c], 3) + ")";
      hist.series("mocks " + label, "line", x,
                  hist.column(tag + "_mocks", nums(lh[c]["histogram"]["mocks"])), int(c));
      hist.series("generated " + label, "dashed", x,
                  hist.column(tag + "_generated", nums(lh[c]["histogram"]["generated"])), int(c));
    }
    figures.push_back(hist.finish(dir));
  }
  if (!halo.empty()) report_detail::halo_emulator_section(dir, halo, r, figures, headlines);
  if (!one_p.is_null()) {
    r["one_p"] = one_p;
    FigureBuilder f("one_p", "1P: P(k) relative to the fiducial",
                    "P(k) at each value of one parameter divided by P(k) at the fiducial "
                    "(0.3, 0.8), seed by seed, averaged: mocks solid, generated fields dashed "
                    "(the same noise at every parameter value).");
    const std::string k = f.column("k", nums(one_p["k"]));
    for (std::size_t p = 0; p < 2; ++p) {
      const auto& pj = one_p["parameters"][p];
      f.panel(pj["name"].get<std::string>(), "k [h/Mpc]", "P / P_fiducial", true, false);
      int colour = 0;
      for (const auto& curve : pj["curves"]) {
        const std::string tag =
            pj["name"].get<std::string>() + "_" + report_detail::fixed(num(curve["value"]), 3);
        f.series(pj["name"].get<std::string>() + " = " +
                     report_detail::fixed(num(curve["value"]), 3) + " mocks",
                 "line", k, f.column(tag + "_mocks", nums(curve["mock_ratio"]["mean"])), colour);
        if (!curve["generated_ratio"].is_null())
          f.series("generated", "dashed", k,
                   f.column(tag + "_generated", nums(curve["generated_ratio"]["mean"])), colour);
        ++colour;
      }
    }
    figures.push_back(f.finish(dir));
  }
  if (!cv.is_null()) {
    r["cv"] = cv;
    if (cv.contains("std_ratio")) {
      const auto ratio = nums(cv["std_ratio"]);
      double lo = 1e300, hi = -1e300;
      for (double x : ratio) lo = std::min(lo, x), hi = std::max(hi, x);
      headlines.push_back("CV set at the fiducial: the generated std of P(k) is " +
                          report_detail::fixed(lo, 2) + "-" + report_detail::fixed(hi, 2) +
                          " times the mocks' across k (" + std::to_string(cv["mocks"].get<int>()) +
                          " mocks, " + std::to_string(cv["generated_finite"].get<int>()) +
                          " generated fields).");
      FigureBuilder f("cv_std", "CV: scatter of P(k)",
                      "Standard deviation of P(k) at the fiducial cosmology, generated / mocks, "
                      "with jackknife errors; 1 for a faithful emulator.");
      const std::string k = f.column("k", nums(cv["k"]));
      const auto err = nums(cv["std_ratio_error"]);
      std::vector<double> rlo, rhi, one(ratio.size(), 1.0);
      for (std::size_t b = 0; b < ratio.size(); ++b)
        rlo.push_back(ratio[b] - err[b]), rhi.push_back(ratio[b] + err[b]);
      f.panel("", "k [h/Mpc]", "std generated / std mocks", true, false);
      f.series("generated / mocks", "errorbars", k, f.column("std_ratio", ratio), 0,
               f.column("std_ratio_lo", rlo), f.column("std_ratio_hi", rhi));
      f.series("", "dashed", k, f.column("one", one), 7);
      f.column("mock_std", nums(cv["mock_std"]));
      f.column("generated_std", nums(cv["generated_std"]));
      figures.push_back(f.finish(dir));
    }
    if (cv.contains("generated_correlation") && !cv["generated_correlation"].is_null()) {
      FigureBuilder f("cv_correlation", "CV: correlation matrices of P(k)",
                      "Correlation of P(k) between log-spaced k bins at the fiducial cosmology: "
                      "mocks (left) and generated fields (right).");
      const std::size_t b = cv["k_binned"].size();
      std::vector<double> col, row;
      for (std::size_t i = 0; i < b; ++i)
        for (std::size_t j = 0; j < b; ++j) row.push_back(double(i)), col.push_back(double(j));
      const std::string x = f.column("column", col), y = f.column("row", row);
      f.column("k_binned", nums(cv["k_binned"]));
      f.panel("mocks", "k bin", "k bin");
      f.map("mocks", x, y, f.column("mock_correlation", nums(cv["mock_correlation"])), int(b), -1,
            1);
      f.panel("generated", "k bin", "k bin");
      f.map("generated", x, y, f.column("generated_correlation", nums(cv["generated_correlation"])),
            int(b), -1, 1);
      figures.push_back(f.finish(dir));
    }
  }

  // Calibration.
  if (!field_files.empty()) {
    std::vector<Json> fields;
    for (const auto& path : field_files) {
      fields.push_back(load_required(path));
      fields.back().erase("seconds");   // wall time: timings.json (report.json is reproducible)
      fields.back().erase("settings");  // the report's own settings hold them
    }
    Json c;
    c["fields"] = fields;
    c["summary"] = Json::array();
    const std::vector<double> levels = settings.contains("coverage_levels")
                                           ? nums(settings["coverage_levels"])
                                           : default_coverage_levels();
    const int rank_bins = settings.value("rank_bins", 10);
    bool exact = false;
    std::vector<ParameterCalibrationSummary> summaries;
    for (std::size_t p = 0; p < 2; ++p) {
      std::vector<ReportParameterPosterior> values;
      for (const auto& f : fields) values.push_back(read_parameter(f, p));
      exact = exact || std::isfinite(values[0].exact_sd);
      summaries.push_back(summarize_parameter(kParameterNames[p], values, rank_bins, levels));
      c["summary"].push_back(summary_json(summaries.back()));
    }
    c["exact_comparison"] = exact;
    r["calibration"] = c;
    const std::string lik = settings.value("likelihood", std::string());
    for (const auto& s : summaries)
      headlines.push_back(s.name + " (" + lik + " posterior, " + std::to_string(s.fields) +
                          " fields): 68% intervals cover the truth " +
                          report_detail::fixed(100 * s.inner_coverage, 1) + "% of the time (+- " +
                          report_detail::fixed(100 * s.inner_nominal_se, 1) +
                          "% binomial error at nominal), 95% intervals " +
                          report_detail::fixed(100 * s.outer_coverage, 1) + "% (+- " +
                          report_detail::fixed(100 * s.outer_nominal_se, 1) +
                          "%); mean |z| = " + report_detail::fixed(s.mean_abs_z, 2) +
                          " (0.80 if calibrated; the paper: 2.75 for "
                          "Omega_m, 1.14 for sigma_8), sd of z = " +
                          report_detail::fixed(s.z_sd, 2) + ", mean bias " +
                          report_detail::fixed(s.bias, 4) + " (" +
                          report_detail::fixed(100 * s.relative_bias, 2) + "%).");
    if (exact)
      for (const auto& s : summaries)
        headlines.push_back(s.name + " against the exact GRF posterior: width ratio " +
                            report_detail::fixed(s.width_ratio_mean, 2) + " +- " +
                            report_detail::fixed(s.width_ratio_sd, 2) + ", mean shift " +
                            report_detail::fixed(s.shift_mean, 2) + " +- " +
                            report_detail::fixed(s.shift_sd, 2) +
                            " exact sds, overlap of the 68% intervals " +
                            report_detail::fixed(s.overlap_mean, 2) + ".");

    FigureBuilder cov("calibration_coverage", "Expected coverage",
                      "Empirical coverage of central credible intervals against their "
                      "credibility level (SBC-style, from the posterior CDF at the truth), with "
                      "the binomial band of a calibrated posterior; below the diagonal: "
                      "overconfident.");
    const std::string lv = cov.column("level", levels);
    std::vector<double> band_lo, band_hi;  // columns made in order: the CSV's order is fixed
    for (std::size_t i = 0; i < levels.size(); ++i) {
      const double se = summaries[0].expected_coverage.se[i];
      band_lo.push_back(levels[i] - 2 * se);
      band_hi.push_back(levels[i] + 2 * se);
    }
    cov.panel("", "credibility level", "empirical coverage");
    cov.panel_range(0, 1, 0, 1.02);
    cov.legend("bottom_right");
    const std::string blo = cov.column("band_lo", band_lo);
    const std::string bhi = cov.column("band_hi", band_hi);
    cov.series("calibrated +- 2 se", "band", lv, "", 7, blo, bhi);
    cov.series("", "dashed", lv, lv, 7);
    for (std::size_t p = 0; p < 2; ++p)
      cov.series(
          summaries[p].name, "points", lv,
          cov.column(summaries[p].name + "_coverage", summaries[p].expected_coverage.coverage),
          int(p));
    figures.push_back(cov.finish(dir));

    FigureBuilder rank(
        "calibration_rank", "Rank histograms",
        "Histogram of the posterior CDF at the truth (the continuous SBC rank): flat "
        "for a calibrated posterior, U-shaped when overconfident, peaked when "
        "underconfident; the line is the expected count.");
    std::vector<double> left, expect;
    for (int b = 0; b < rank_bins; ++b) {
      left.push_back(double(b) / rank_bins);
      expect.push_back(double(fields.size()) / rank_bins);
    }
    const std::string rl = rank.column("bin_left", left);
    for (std::size_t p = 0; p < 2; ++p) {
      std::vector<double> counts(summaries[p].rank_histogram.begin(),
                                 summaries[p].rank_histogram.end());
      rank.panel(summaries[p].name, "rank (posterior CDF at the truth)", "fields");
      rank.series("", "step", rl, rank.column(summaries[p].name + "_count", counts), int(p));
      rank.series("expected", "dashed", rl, rank.column("expected_" + std::to_string(p), expect),
                  7);
    }
    figures.push_back(rank.finish(dir));

    FigureBuilder bias("calibration_bias", "Posterior mean and 68% interval against the truth",
                       "Each field's posterior mean with its central 68% interval against the "
                       "true value; the diagonal is the truth. The width of the intervals across "
                       "the prior is in the table (csv/calibration_bias.csv).");
    for (std::size_t p = 0; p < 2; ++p) {
      std::vector<double> truth, mean, lo, hi, sd, z;
      for (const auto& f : fields) {
        const ReportParameterPosterior v = read_parameter(f, p);
        truth.push_back(v.truth), mean.push_back(v.mean), lo.push_back(v.inner_lo);
        hi.push_back(v.inner_hi), sd.push_back(v.sd), z.push_back(v.z);
      }
      const std::string n = summaries[p].name;
      const std::string t = bias.column(n + "_truth", truth);
      bias.panel(n, "truth", "posterior mean");
      bias.legend("top_left");
      bias.series("", "errorbars", t, bias.column(n + "_mean", mean), int(p),
                  bias.column(n + "_inner_lo", lo), bias.column(n + "_inner_hi", hi));
      bias.series("", "dashed", t, t, 7);
      bias.column(n + "_sd", sd);
      bias.column(n + "_z", z);
    }
    figures.push_back(bias.finish(dir));

    if (exact) {
      FigureBuilder ex("exact_comparison", "Posterior against the exact GRF posterior",
                       "Per field: sd of the posterior / sd of the exact GRF posterior (left) and "
                       "the shift of the mean in units of the exact sd (right).");
      std::vector<double> index;
      for (std::size_t i = 0; i < fields.size(); ++i) index.push_back(double(i));
      const std::string ix = ex.column("field", index);
      for (std::size_t p = 0; p < 2; ++p) {
        std::vector<double> ratio, shift, overlap;
        for (const auto& f : fields) {
          const ReportParameterPosterior v = read_parameter(f, p);
          ratio.push_back(v.sd / v.exact_sd);
          shift.push_back((v.mean - v.exact_mean) / v.exact_sd);
          overlap.push_back(
              interval_overlap(v.inner_lo, v.inner_hi, v.exact_inner_lo, v.exact_inner_hi));
        }
        const std::string n = summaries[p].name;
        ex.column(n + "_overlap_68", overlap);
        ex.panel(n + ": width ratio", "field", "sd / sd_exact");
        ex.series("", "points", ix, ex.column(n + "_width_ratio", ratio), int(p));
        ex.panel(n + ": shift", "field", "(mean - mean_exact) / sd_exact");
        ex.series("", "points", ix, ex.column(n + "_shift", shift), int(p));
      }
      figures.push_back(ex.finish(dir));
    }
  }
  r["headlines"] = headlines;
  r["figures"] = figures;
  for (const auto& f : figures) a.figures.push_back(f["name"].get<std::string>());
  return a;
}

std::string markdown(const Json& r) {
  std::ostringstream md;
  const Json& in = r["inputs"];
  md << "# Validation report\n\n";
  md << "Model: `" << (in["model"].is_string() ? in["model"].get<std::string>() : "(none)")
     << "`; mocks: " << in.value("mocks_description", std::string())
     << "; likelihood: " << r["settings"].value("likelihood", std::string()) << "; seed "
     << r["settings"].value("seed", std::uint64_t(0)) << "; Diffuscope "
     << r.value("diffuscope_version", std::string()) << ".\n\n";
  md << "## Headline figures\n\n";
  for (const auto& h : r["headlines"]) md << "- " << h.get<std::string>() << "\n";
  if (r.contains("calibration")) {
    md << "\n## Calibration\n\n";
    md << "| parameter | fields | 68% coverage | 95% coverage | mean abs z | sd z | bias |\n";
    md << "|---|---|---|---|---|---|---|\n";
    for (const auto& s : r["calibration"]["summary"])
      md << "| " << s["name"].get<std::string>() << " | " << s["fields"].get<int>() << " | "
         << report_detail::fixed(num(s["coverage_68"]), 3) << " +- "
         << report_detail::fixed(num(s["coverage_68_nominal_se"]), 3) << " | "
         << report_detail::fixed(num(s["coverage_95"]), 3) << " +- "
         << report_detail::fixed(num(s["coverage_95_nominal_se"]), 3) << " | "
         << report_detail::fixed(num(s["mean_abs_z"]), 2) << " | "
         << report_detail::fixed(num(s["z_sd"]), 2) << " | "
         << report_detail::fixed(num(s["bias"]), 4) << " |\n";
    md << "\n(+- : binomial error of the nominal coverage, sqrt(q (1 - q) / K).)\n";
  }
  if (r.contains("emulator") && r["emulator"].contains("statistics")) {
    md << report_detail::halo_emulator_markdown(r["emulator"]);
  } else if (r.contains("emulator")) {
    md << "\n## Emulator\n\n| Omega_m | sigma_8 | reduced chi^2 generated | leave-one-out mocks |\n"
          "|---|---|---|---|\n";
    for (const auto& c : r["emulator"]["cosmologies"])
      md << "| " << report_detail::fixed(num(c["theta"][0]), 3) << " | "
         << report_detail::fixed(num(c["theta"][1]), 3) << " | "
         << report_detail::fixed(num(c["reduced_chi2"]), 2) << " +- "
         << report_detail::fixed(num(c["reduced_chi2_sd"]), 2) << " | "
         << report_detail::fixed(num(c["loo_reduced_chi2"]), 2) << " +- "
         << report_detail::fixed(num(c["loo_reduced_chi2_sd"]), 2) << " |\n";
  }
  md << "\n## Figures\n\n";
  for (const auto& f : r["figures"])
    md << "### " << f["title"].get<std::string>() << "\n\n"
       << f["caption"].get<std::string>() << " Data: `" << f["csv"].get<std::string>() << "`.\n\n!["
       << f["title"].get<std::string>() << "](" << f["png"].get<std::string>() << ")\n\n";
  return md.str();
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

ReportResult write_outputs(const std::string& dir, const Json& settings, const Json& inputs,
                           const std::vector<std::string>& emulator_files,
                           const std::vector<std::string>& field_files) {
  fs::create_directories(fs::path(dir) / "csv");
  const Assembled a = assemble(dir, settings, inputs, emulator_files, field_files);
  ReportResult result;
  result.json_path = (fs::path(dir) / "report.json").string();
  result.markdown_path = (fs::path(dir) / "report.md").string();
  result.figures = a.figures;
  report_detail::write_json(result.json_path, a.report);
  write_text(result.markdown_path, markdown(a.report));
  return result;
}

}  // namespace

ReportResult report_detail::write_report_outputs(const std::string& dir, const Json& settings,
                                                 const Json& inputs,
                                                 const std::vector<std::string>& emulator_files,
                                                 const std::vector<std::string>& field_files) {
  return write_outputs(dir, settings, inputs, emulator_files, field_files);
}

}  // namespace ds
