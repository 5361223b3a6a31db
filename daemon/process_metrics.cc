#include "daemon/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

namespace crmhub::daemon {
namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_seconds_since_boot = 0;
};

bool ReadProcStat(ProcStat* out) {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  // Field 2 (comm) may contain spaces: parse after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> fields;
  std::string f;
  while (rest >> f) fields.push_back(f);
  // fields[0] is field 3 (state); utime=14, stime=15, starttime=22.
  if (fields.size() < 20) return false;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  out->cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  out->start_seconds_since_boot = std::stod(fields[19]) / ticks;
  return true;
}

double BootTimeSeconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double OpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double n = 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // the fd opendir itself holds
}

}  // namespace

void RegisterProcessMetrics(MetricsRegistry& metrics, const std::string& version) {
  metrics
      .GetGauge("crmhub_build_info", "crmhub's version (value is always 1).",
                {{"version", version}})
      .Set(1);
  metrics.GetCounter("process_cpu_seconds_total", "Total user and system CPU time in seconds.");
  const double boot = BootTimeSeconds();
  // process_cpu_seconds_total is a counter: add what was used since the last
  // render.
  auto last_cpu = std::make_shared<std::pair<std::mutex, double>>();
  metrics.AddCollector([boot, last_cpu](MetricsRegistry& m) {
    m.GetGauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        .Set(ResidentBytes());
    m.GetGauge("process_open_fds", "Number of open file descriptors.").Set(OpenFds());
    ProcStat stat;
    if (ReadProcStat(&stat)) {
      std::lock_guard lock(last_cpu->first);
      double delta = stat.cpu_seconds - last_cpu->second;
      if (delta > 0) {
        m.GetCounter("process_cpu_seconds_total", "Total user and system CPU time in seconds.")
            .Inc(delta);
        last_cpu->second = stat.cpu_seconds;
      }
      m.GetGauge("process_start_time_seconds", "Start time of the process since the Unix epoch.")
          .Set(boot + stat.start_seconds_since_boot);
    }
  });
}

}  // namespace crmhub::daemon
