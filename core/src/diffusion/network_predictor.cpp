// The score network behind the torch-free NoisePredictor of the samplers (one torch TU).
#include <torch/torch.h>

#include <sstream>

#include "diffuscope/diffusion/sampler.h"
#include "diffuscope/error.h"
#include "nets/score_network.h"

namespace ds {

NoisePredictor make_noise_predictor(const ScoreNet2d& net, std::vector<float> theta01, int n) {
  const int channels = net.info().channels;
  const auto network = net.network();
  const auto device =
      net.device() == Device::Cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const std::size_t p = net.info().conditional_dim > 0
                            ? std::size_t(net.info().conditional_dim)
                            : std::size_t(2);  // TorchScript without metadata: (Omega_m, sigma_8)
  if (theta01.empty() || theta01.size() % p != 0)
    throw InvalidArgument("noise predictor: " + std::to_string(theta01.size()) +
                          " parameter values are not rows of " + std::to_string(p));
  const std::string path = net.info().path;
  auto thetas = std::make_shared<const std::vector<float>>(std::move(theta01));
  return [=](const std::vector<float>& x_t, std::int64_t t, std::size_t first_row,
             std::vector<float>& eps) {
    const std::size_t field = std::size_t(channels) * n * n;
    const auto rows = static_cast<std::int64_t>(x_t.size() / field);
    if (std::size_t(rows) * field != x_t.size() || (first_row + rows) * p > thetas->size())
      throw InvalidArgument("noise predictor: batch rows " + std::to_string(first_row) + ".." +
                            std::to_string(first_row + rows) + " exceed the parameter table");
    torch::InferenceMode inference;
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
    const auto x =
        torch::from_blob(const_cast<float*>(x_t.data()), {rows, channels, n, n}, f32).to(device);
    const auto theta = torch::from_blob(const_cast<float*>(thetas->data() + first_row * p),
                                        {rows, std::int64_t(p)}, f32)
                           .to(device);
    const auto steps =
        torch::full({rows}, t, torch::TensorOptions().dtype(torch::kInt64)).to(device);
    torch::Tensor out;
    try {
      nets::NetworkPrecisionScope precision(device);  // bf16 autocast when chosen (runtime.h)
      out = network->forward(x, steps, theta);
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      throw InvalidArgument(path + ": the network failed (" + what.substr(0, what.find('\n')) +
                            ")");
    }
    if (out.sizes() != x.sizes()) {
      std::ostringstream s;
      s << path << ": the network returned shape " << out.sizes() << " for x of shape "
        << x.sizes();
      throw InvalidArgument(s.str());
    }
    out = out.to(torch::kCPU).to(torch::kFloat32).contiguous();
    eps.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  };
}

}  // namespace ds
