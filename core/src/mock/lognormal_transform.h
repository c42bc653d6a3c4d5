// The spectrum of the Gaussian field G whose lognormal transform exp(G - sigma_G^2/2) - 1 has a
// given target spectrum on a periodic grid (private to core/mock; used by the 2D lognormal fields
// and the 3D halo mocks).
//
// Standard construction (Coles & Jones 1991; e.g. Agrawal et al. 2017, lognormal_galaxies), done
// exactly on the grid: the target P on every grid mode -> xi(x) by inverse FFT (the periodic,
// aliased correlation function of the grid) -> xi_G = ln(1 + xi) -> P_G by FFT. Two details:
//  - The k = 0 value of the target is not observable (estimators drop the DC mode) and is free:
//    it is set so that P_G(0) = 0 exactly. With P(0) = 0 instead, Jensen's inequality makes
//    P_G(0) = sum ln(1 + xi) < 0, which no Gaussian field has.
//  - Where P_G(k) < 0 (the target is not reachable by a lognormal field, typically at high k for
//    strongly non-linear targets) it is clipped to 0; clipped_fraction reports how much.
#pragma once

#include <cstddef>
#include <vector>

namespace ds::detail {

struct GaussianSpectrum {
  // P_G on the half-space modes, in the layout of the r2c FFT of the grid (2D: n * (n/2+1),
  // 3D: n * n * (n/2+1)), units of the target ((Mpc/h)^2 or (Mpc/h)^3).
  std::vector<double> power;
  double variance = 0.0;          // sigma_G^2 = xi_G(0) after clipping
  double clipped_fraction = 0.0;  // |sum of clipped negative P_G| / sum of positive P_G
  std::size_t clipped_modes = 0;
};

// target: the target spectrum on the half-space modes (same layout; the DC entry is ignored).
// dimensions: 2 or 3. Throws InvalidArgument when the target correlation is <= -1 somewhere.
GaussianSpectrum lognormal_gaussian_spectrum(const std::vector<double>& target, int n,
                                             double box_size, int dimensions);

}  // namespace ds::detail
