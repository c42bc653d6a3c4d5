#include "train/process_group.h"

#include <torch/torch.h>
#include <torch/version.h>

#if defined(USE_C10D_GLOO) && defined(DS_HAVE_GLOO)
#define DS_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && defined(DS_HAVE_NCCL)
#define DS_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>

#include "diffuscope/error.h"

namespace ds::train {

// LibTorch 2.x made Gloo and NCCL backends of a ProcessGroup; in 1.x they are process groups.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Collectives> group;
  bool via_cpu = false;  // Gloo with CUDA tensors: reduce a CPU copy
};

namespace {

std::chrono::milliseconds to_milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
}

// One line of a c10d / Gloo message (they carry the source location first).
std::string first_line(const std::string& text) {
  const auto end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

ProcessGroup::ProcessGroup(const DistributedSettings& settings, const torch::Device& device)
    : impl_(std::make_unique<Impl>()),
      rank_(settings.launcher.rank),
      world_size_(settings.launcher.world_size),
      timeout_seconds_(settings.timeout_seconds) {
  const LauncherEnvironment& env = settings.launcher;
  where_ = "rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) + " (" +
           env.master_addr + ":" + std::to_string(env.master_port) + ")";
  if (!(settings.timeout_seconds > 0.0)) throw InvalidArgument("--dist-timeout must be positive");
  const auto timeout = to_milliseconds(settings.timeout_seconds);
  try {
    c10d::TCPStoreOptions options;
    options.port = std::uint16_t(env.master_port);
    options.isServer = rank_ == 0;
    options.numWorkers = std::size_t(world_size_);
    options.waitWorkers = true;
    options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw Error("distributed training: " + where_ + " could not meet the other ranks within " +
                std::to_string(int(settings.timeout_seconds)) +
                " s (start every rank with the same MASTER_ADDR/MASTER_PORT, e.g. under srun or "
                "torchrun; a port in use needs another MASTER_PORT): " +
                first_line(e.what()));
  }
  // A prefix per run keeps the group's keys apart from anything else on the store.
  auto store = c10::make_intrusive<c10d::PrefixStore>("diffuscope/", impl_->store);
  try {
#if defined(DS_NCCL)
    if (device.is_cuda()) {
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      impl_->group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank_, world_size_, options);
      backend_ = "NCCL";
    }
#endif
#if defined(DS_GLOO)
    if (!impl_->group) {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // GLOO_SOCKET_IFNAME picks the network interface (as in PyTorch); else the host's address.
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      options->devices.push_back(
          interface && *interface ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                  : c10d::ProcessGroupGloo::createDefaultDevice());
      options->threads = 2;
      impl_->group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank_, world_size_, options);
      impl_->via_cpu = device.is_cuda();
      backend_ = "Gloo";
    }
#endif
  } catch (const std::exception& e) {
    throw Error("distributed training: " + where_ +
                " could not build the process group: " + first_line(e.what()));
  }
  if (!impl_->group)
    throw Unavailable(
        "distributed training: this build has neither Gloo nor NCCL (LibTorch without "
        "USE_C10D_GLOO, or built without Gloo's headers: install libgloo-dev and rebuild)");
  (void)device;
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::wait(const std::string& what, const std::function<void()>& op) {
  try {
    op();
  } catch (const std::exception& e) {
    throw Error("distributed training: " + where_ + " failed in " + what +
                " (another rank died, was killed or stalled for more than " +
                std::to_string(int(timeout_seconds_)) +
                " s; see --dist-timeout): " + first_line(e.what()));
  }
}

void ProcessGroup::broadcast_from_rank0(std::vector<torch::Tensor>& tensors) {
  if (tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat_parts;
  for (const auto& t : tensors) flat_parts.push_back(t.detach().reshape({-1}).to(torch::kFloat32));
  torch::Tensor flat = torch::cat(flat_parts);
  if (impl_->via_cpu) flat = flat.cpu();
  wait("the broadcast of the initial weights", [&] {
    std::vector<at::Tensor> buffers{flat};
    c10d::BroadcastOptions options;
    options.rootRank = 0;
    impl_->group->broadcast(buffers, options)->wait();
  });
  std::int64_t offset = 0;
  for (auto& t : tensors) {
    const auto n = t.numel();
    t.copy_(flat.slice(0, offset, offset + n).view(t.sizes()).to(t.device(), t.scalar_type()));
    offset += n;
  }
}

void ProcessGroup::average(std::vector<torch::Tensor>& tensors, std::vector<double>& scalars) {
  torch::NoGradGuard no_grad;
  torch::Device device(torch::kCPU);
  for (const auto& t : tensors)
    if (t.defined()) device = t.device();
  std::vector<torch::Tensor> parts;
  for (const auto& t : tensors)
    if (t.defined()) parts.push_back(t.reshape({-1}).to(torch::kFloat32));
  std::vector<float> tail(scalars.begin(), scalars.end());
  parts.push_back(torch::from_blob(tail.data(), {long(tail.size())},
                                   torch::TensorOptions().dtype(torch::kFloat32))
                      .to(device));
  torch::Tensor flat = torch::cat(parts);
  if (impl_->via_cpu) flat = flat.cpu();
  wait("the gradient all-reduce", [&] {
    std::vector<at::Tensor> buffers{flat};
    impl_->group->allreduce(buffers)->wait();
  });
  flat.div_(double(world_size_));
  std::int64_t offset = 0;
  for (auto& t : tensors) {
    if (!t.defined()) continue;
    const auto n = t.numel();
    t.copy_(flat.slice(0, offset, offset + n).view(t.sizes()).to(t.device(), t.scalar_type()));
    offset += n;
  }
  const auto reduced = flat.slice(0, offset).cpu();
  for (std::size_t i = 0; i < scalars.size(); ++i) scalars[i] = reduced[long(i)].item<double>();
}

void ProcessGroup::barrier() {
  wait("the closing barrier", [&] { impl_->group->barrier()->wait(); });
}

}  // namespace ds::train
