#include "infer/mcmc/chain_executor.h"

#include <algorithm>
#include <optional>

namespace ds::detail {

namespace {
// Unwinds a chain's task when another chain or the density failed.
struct Aborted {};
}  // namespace

class ChainExecutor::DirectEvaluator : public PointEvaluator {
 public:
  explicit DirectEvaluator(ChainExecutor& owner) : owner_(owner) {}
  double evaluate(const double* theta, double* gradient) override {
    const std::size_t d = owner_.dimension_;
    theta_.assign(theta, theta + d);
    owner_.density_.evaluate(theta_, 1, values_, gradient != nullptr ? &gradients_ : nullptr);
    ++owner_.calls_;
    ++owner_.points_;
    if (gradient != nullptr) std::copy_n(gradients_.begin(), d, gradient);
    return values_[0];
  }

 private:
  ChainExecutor& owner_;
  std::vector<double> theta_, values_, gradients_;
};

class ChainExecutor::BatchedEvaluator : public PointEvaluator {
 public:
  BatchedEvaluator(ChainExecutor& owner, std::size_t chain) : owner_(owner), chain_(chain) {}
  double evaluate(const double* theta, double* gradient) override {
    ChainExecutor& o = owner_;
    const std::size_t d = o.dimension_;
    std::unique_lock<std::mutex> lock(o.mutex_);
    if (o.abort_) throw Aborted{};
    std::copy_n(theta, d, &o.thetas_[chain_ * d]);
    o.pending_[chain_] = 1;
    o.wants_gradient_[chain_] = gradient != nullptr ? 1 : 0;
    ++o.waiting_;
    const std::uint64_t round = o.round_;
    if (o.waiting_ == o.running_) o.wake_main_.notify_one();
    o.wake_workers_.wait(lock, [&] { return o.round_ != round || o.abort_; });
    if (o.round_ == round) {  // aborted before this request was served
      o.pending_[chain_] = 0;
      --o.waiting_;
      o.wake_main_.notify_one();
      throw Aborted{};
    }
    if (gradient != nullptr) std::copy_n(&o.gradients_[chain_ * d], d, gradient);
    return o.values_[chain_];
  }

 private:
  ChainExecutor& owner_;
  std::size_t chain_;
};

ChainExecutor::ChainExecutor(const LogDensity& density, std::size_t chains, bool lockstep)
    : density_(density),
      chains_(chains),
      dimension_(density.dimension()),
      lockstep_(lockstep && chains > 1) {
  if (!lockstep_) return;
  if (const CancellationToken* token = CancellationScope::current()) job_token_ = *token;
  pending_.assign(chains_, 0);
  wants_gradient_.assign(chains_, 0);
  thetas_.assign(chains_ * dimension_, 0.0);
  values_.assign(chains_, 0.0);
  gradients_.assign(chains_ * dimension_, 0.0);
  for (std::size_t c = 0; c < chains_; ++c) threads_.emplace_back(&ChainExecutor::worker, this, c);
}

ChainExecutor::~ChainExecutor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
  }
  wake_workers_.notify_all();
  for (auto& t : threads_) t.join();
}

void ChainExecutor::worker(std::size_t chain) {
  // Network chunks evaluated on this thread see the job's cancellation.
  std::optional<CancellationScope> scope;
  if (job_token_) scope.emplace(*job_token_);
  BatchedEvaluator evaluator(*this, chain);
  std::uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_workers_.wait(lock, [&] { return shutdown_ || generation_ != seen; });
    if (shutdown_) return;
    seen = generation_;
    const Task* task = task_;
    lock.unlock();
    try {
      (*task)(chain, evaluator);
    } catch (const Aborted&) {
    } catch (...) {
      std::lock_guard<std::mutex> guard(mutex_);
      if (!error_) error_ = std::current_exception();
      abort_ = true;
      wake_workers_.notify_all();
    }
    lock.lock();
    --running_;
    wake_main_.notify_one();
  }
}

// Called with the lock held when every running chain waits: evaluates their points in one call.
void ChainExecutor::evaluate_round(std::unique_lock<std::mutex>& lock) {
  const std::size_t d = dimension_;
  std::vector<std::size_t> members;
  std::vector<double> batch;
  bool gradients_wanted = false;
  for (std::size_t c = 0; c < chains_; ++c) {
    if (!pending_[c]) continue;
    members.push_back(c);
    gradients_wanted = gradients_wanted || wants_gradient_[c];
    batch.insert(batch.end(), &thetas_[c * d], &thetas_[c * d] + d);
  }
  lock.unlock();
  std::vector<double> values, gradients;
  std::exception_ptr failure;
  try {
    density_.evaluate(batch, members.size(), values, gradients_wanted ? &gradients : nullptr);
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  ++calls_;
  points_ += members.size();
  if (failure) {
    if (!error_) error_ = failure;
    abort_ = true;
  } else {
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::size_t c = members[i];
      values_[c] = values[i];
      if (gradients_wanted) std::copy_n(&gradients[i * d], d, &gradients_[c * d]);
      pending_[c] = 0;
    }
    waiting_ = 0;
    ++round_;
  }
  wake_workers_.notify_all();
}

void ChainExecutor::run(const Task& task) {
  if (!lockstep_) {
    DirectEvaluator evaluator(*this);
    for (std::size_t c = 0; c < chains_; ++c) task(c, evaluator);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  task_ = &task;
  running_ = chains_;
  waiting_ = 0;
  abort_ = false;
  error_ = nullptr;
  ++generation_;
  wake_workers_.notify_all();
  while (true) {
    wake_main_.wait(lock, [&] { return running_ == 0 || (!abort_ && waiting_ == running_); });
    if (running_ == 0) break;
    evaluate_round(lock);
  }
  task_ = nullptr;
  if (error_) {
    std::exception_ptr error = error_;
    error_ = nullptr;
    abort_ = false;
    std::fill(pending_.begin(), pending_.end(), 0);
    waiting_ = 0;
    lock.unlock();
    std::rethrow_exception(error);
  }
}

}  // namespace ds::detail
