// Bin edges and the rebinning of power spectra (log-spaced bins of the Diffusion-HMC figures).
#pragma once

#include <string>
#include <vector>

#include "diffuscope/stats/power_spectrum_2d.h"

namespace ds {

// Throws InvalidArgument naming `what` unless edges holds at least two finite, strictly
// increasing values.
void require_increasing_edges(const std::vector<double>& edges, const std::string& what);

// bins + 1 edges equally spaced in log10 between lo and hi (both > 0, lo < hi); the end points
// are exactly lo and hi.
std::vector<double> log_spaced_edges(double lo, double hi, int bins);

// Merges the bins of `spectrum` into the given k edges (h/Mpc): a bin takes the input bins whose
// k lies in [e_b, e_b+1) (the last bin also takes k == e_B), with
//   k = sum(Nmodes k) / sum(Nmodes), P = sum(Nmodes P) / sum(Nmodes), Nmodes = sum(Nmodes),
// i.e. the mean over all modes as if they had been binned directly. Empty bins are dropped, so
// the result may have fewer bins than edges - 1.
PowerSpectrum rebin(const PowerSpectrum& spectrum, const std::vector<double>& edges);

// rebin() into `bins` log-spaced bins from the first to the last k of the spectrum (35 in the
// Diffusion-HMC figures). The edges depend only on the grid (N, L), so spectra of a set of
// fields of one size share them.
PowerSpectrum rebin_log(const PowerSpectrum& spectrum, int bins);

}  // namespace ds
