#pragma once
// Shared pieces of the crm tests: a fresh temp directory and builders of
// valid canonical entities and sink events.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "crm/sink.h"
#include "mapping/model/entity.h"

namespace crmhub::crm::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-crm-test-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    if (made == nullptr) std::abort();
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline model::Entity Order(std::string source, std::string external_id, int64_t version,
                           std::string status, int64_t total_minor = 10000) {
  model::Entity e;
  e.kind = model::EntityKind::kOrder;
  e.source = std::move(source);
  e.external_id = std::move(external_id);
  e.version = version;
  e.fields = {{"status", std::move(status)}, {"total", total_minor}, {"currency", "RUB"}};
  return e;
}

inline model::Entity Contact(std::string source, std::string external_id, int64_t version,
                             std::string phone, std::string name = "Ivan") {
  model::Entity e;
  e.kind = model::EntityKind::kContact;
  e.source = std::move(source);
  e.external_id = std::move(external_id);
  e.version = version;
  e.fields = {{"phone", std::move(phone)}, {"name", std::move(name)}};
  return e;
}

inline SinkEvent Event(std::string source, std::string key, std::vector<model::Entity> entities,
                       int64_t message_id = 1) {
  SinkEvent ev;
  ev.source = std::move(source);
  ev.idempotency_key = std::move(key);
  ev.message_id = message_id;
  ev.received_at = SystemTime(std::chrono::seconds(1'700'000'000));
  ev.entities = std::move(entities);
  return ev;
}

}  // namespace crmhub::crm::testing
