// The config loader with the daemon's whole schema (every adapter type):
// any TOML text, as `crmhub check-config` reads it.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/adapter_registry.h"
#include "daemon/config_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("crmhub-fuzz-config-" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  (void)crmhub::daemon::CheckConfigFile(file, crmhub::daemon::AllAdapterTypes());
  return 0;
}
