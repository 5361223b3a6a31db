// crmhub kafka-dev: librdkafka's mock cluster (rdkafka_mock.h, a
// Kafka-protocol broker set inside this process) for trying [queue] engine =
// "kafka" on one machine, the way the engine's tests run it. Nothing it holds
// is durable and it trims old records (about 5 MB per partition): it is for
// trying, never for running. docs/deploy-kafka.md covers a real cluster.
//
// There is no --listen: librdkafka 2.0's mock brokers bind ephemeral ports on
// 127.0.0.1 and the API has no way to choose them, so the command prints the
// bootstrap address (and writes it to --bootstrap-file, for scripts).

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "queue/kafka/mock_cluster.h"

namespace crmhub::cli {
namespace {

// Writes `text` to `path` through a temporary file and a rename, so that a
// script polling for the file never reads half of it.
bool WriteWhole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int KafkaDevCommand(const Args& args) {
  int64_t brokers = 3;
  std::string bootstrap_file;
  FlagParser flags("crmhub kafka-dev [--brokers N] [--bootstrap-file PATH]",
                   "Run librdkafka's in-process mock Kafka cluster until SIGINT or SIGTERM, for "
                   "trying [queue] engine = \"kafka\" on one machine. Prints the bootstrap "
                   "address to put in [queue] brokers. Not durable: for trying, not running.");
  flags.AddInt("--brokers", &brokers, "N", "brokers in the cluster (1-9; default 3)");
  flags.AddString("--bootstrap-file", &bootstrap_file, "PATH",
                  "also write the bootstrap address to PATH (replaced whole, once it is up)");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (brokers < 1 || brokers > 9) {
    std::fprintf(stderr, "error: --brokers must be 1-9, not %lld\n",
                 static_cast<long long>(brokers));
    return 2;
  }
  // Blocked before librdkafka starts its threads, which inherit the mask:
  // the signals then reach only sigwait below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  queue::kafka::MockKafkaCluster cluster(static_cast<int>(brokers));
  if (cluster.bootstraps().empty()) {
    std::fprintf(stderr, "error: librdkafka's mock cluster did not start\n");
    return 1;
  }
  std::printf(
      "crmhub kafka-dev: %lld brokers at %s (in this process; not durable)\n\n"
      "[queue]\nengine = \"kafka\"\nbrokers = \"%s\"\n\n"
      "Topics are created on first use. Ctrl-C or SIGTERM stops it.\n",
      static_cast<long long>(brokers), cluster.bootstraps().c_str(), cluster.bootstraps().c_str());
  std::fflush(stdout);
  if (!bootstrap_file.empty() && !WriteWhole(bootstrap_file, cluster.bootstraps())) {
    std::fprintf(stderr, "error: cannot write %s\n", bootstrap_file.c_str());
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  std::printf("crmhub kafka-dev: stopped by signal %d\n", signal_number);
  return 0;
}

}  // namespace crmhub::cli
