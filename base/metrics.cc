#include "base/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <variant>

namespace crmhub {

namespace {

// std::atomic<double>::fetch_add is C++20 but missing from gcc 12's
// libstdc++ for floating point in some modes; a CAS loop is portable.
void AtomicAdd(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Prometheus text format 0.0.4 number: integers without a fraction,
// otherwise shortest round-trip form; +Inf, -Inf, NaN spelled out.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// HELP text escapes backslash and newline; label values also escape '"'.
std::string Escape(std::string_view s, bool quote) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// {a="1",b="2"} (with an optional extra label appended last), or "" when
// there are no labels.
std::string FormatLabels(const Labels& labels, const char* extra_name = nullptr,
                         const std::string& extra_value = {}) {
  if (labels.empty() && extra_name == nullptr) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + Escape(v, true) + "\"";
  }
  if (extra_name != nullptr) {
    if (!first) out += ",";
    out += std::string(extra_name) + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

}  // namespace

void Counter::Inc(double v) {
  if (!(v >= 0)) return;  // counters only go up; a negative or NaN increment is dropped
  AtomicAdd(value_, v);
}

void Gauge::Add(double v) { AtomicAdd(value_, v); }

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  // +Inf is implicit; an explicit one would render twice.
  while (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  // Bucket i counts observations with bounds_[i-1] < v <= bounds_[i].
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

struct MetricsRegistry::Family {
  enum class Type { kCounter, kGauge, kHistogram };
  using Metric =
      std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>>;

  Type type;
  std::string help;
  std::map<Labels, Metric> series;
};

namespace {

const char* TypeName(int type) {
  switch (type) {
    case 0:
      return "counter";
    case 1:
      return "gauge";
    default:
      return "histogram";
  }
}

}  // namespace

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const Labels& labels) {
  std::lock_guard lock(mu_);
  if (!ValidName(name)) throw std::logic_error("invalid metric name: " + name);
  auto& family = families_[name];
  if (!family) family.reset(new Family{Family::Type::kCounter, help, {}});
  if (family->type != Family::Type::kCounter) {
    throw std::logic_error("metric " + name + " is already registered as another type");
  }
  auto [it, inserted] = family->series.try_emplace(labels, std::unique_ptr<Counter>());
  auto& p = std::get<std::unique_ptr<Counter>>(it->second);
  if (!p) p = std::make_unique<Counter>();
  return *p;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const Labels& labels) {
  std::lock_guard lock(mu_);
  if (!ValidName(name)) throw std::logic_error("invalid metric name: " + name);
  auto& family = families_[name];
  if (!family) family.reset(new Family{Family::Type::kGauge, help, {}});
  if (family->type != Family::Type::kGauge) {
    throw std::logic_error("metric " + name + " is already registered as another type");
  }
  auto [it, inserted] = family->series.try_emplace(labels, std::unique_ptr<Gauge>());
  auto& p = std::get<std::unique_ptr<Gauge>>(it->second);
  if (!p) p = std::make_unique<Gauge>();
  return *p;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  if (!ValidName(name)) throw std::logic_error("invalid metric name: " + name);
  if (labels.count("le")) throw std::logic_error("histogram " + name + " may not use label le");
  auto& family = families_[name];
  if (!family) family.reset(new Family{Family::Type::kHistogram, help, {}});
  if (family->type != Family::Type::kHistogram) {
    throw std::logic_error("metric " + name + " is already registered as another type");
  }
  auto [it, inserted] = family->series.try_emplace(labels, std::unique_ptr<Histogram>());
  auto& p = std::get<std::unique_ptr<Histogram>>(it->second);
  if (!p) p = std::make_unique<Histogram>(bounds);
  return *p;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::RenderPrometheus() {
  std::vector<std::function<void(MetricsRegistry&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  // Collectors register and set gauges, so they run without the lock.
  for (auto& c : collectors) c(*this);

  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + " " + Escape(family->help, false) + "\n";
    out += "# TYPE " + name + " " + TypeName(static_cast<int>(family->type)) + "\n";
    for (const auto& [labels, metric] : family->series) {
      if (auto* c = std::get_if<std::unique_ptr<Counter>>(&metric)) {
        out += name + FormatLabels(labels) + " " + FormatValue((*c)->value()) + "\n";
      } else if (auto* g = std::get_if<std::unique_ptr<Gauge>>(&metric)) {
        out += name + FormatLabels(labels) + " " + FormatValue((*g)->value()) + "\n";
      } else if (auto* h = std::get_if<std::unique_ptr<Histogram>>(&metric)) {
        const Histogram& hist = **h;
        std::vector<uint64_t> counts = hist.bucket_counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = i < hist.bounds().size() ? FormatValue(hist.bounds()[i]) : "+Inf";
          out += name + "_bucket" + FormatLabels(labels, "le", le) + " " +
                 std::to_string(cumulative) + "\n";
        }
        out += name + "_sum" + FormatLabels(labels) + " " + FormatValue(hist.sum()) + "\n";
        // _count equals the +Inf bucket of this same snapshot.
        out += name + "_count" + FormatLabels(labels) + " " + std::to_string(cumulative) + "\n";
      }
    }
  }
  return out;
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,  0.5,    1,     2.5,  5,     10,   30};
  return kBuckets;
}

}  // namespace crmhub
