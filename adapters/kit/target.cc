#include "adapters/kit/target.h"

#include <map>
#include <set>
#include <unordered_map>

#include "adapters/adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::kit {

std::vector<TargetCommand> ReadCommands(std::span<const Command> batch,
                                        std::initializer_list<std::string_view> commands,
                                        std::string_view system,
                                        std::vector<DeliveryOutcome>& out) {
  std::vector<TargetCommand> read;
  read.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::string_view name = batch[i].name;
    bool known = false;
    for (std::string_view c : commands) known = known || c == name;
    if (!known) {
      out[i] = DeliveryOutcome::Fail(std::string(system) + ": unknown command \"" +
                                     std::string(name) + "\"");
      continue;
    }
    Result<nlohmann::json> item = ParseJson(batch[i].payload);
    if (!item.ok() || !item->is_object()) {
      out[i] = DeliveryOutcome::Fail(std::string(system) + ": " + std::string(name) +
                                     ": the payload is not a JSON object" +
                                     (item.ok() ? "" : " (" + item.status().message() + ")"));
      continue;
    }
    read.push_back({i, std::string(name), std::move(item).value(), batch[i].attempt});
  }
  return read;
}

std::vector<std::vector<size_t>> ChunkDistinct(const std::vector<std::string>& keys, size_t max) {
  std::vector<std::vector<size_t>> chunks;
  std::unordered_map<std::string, size_t> last_chunk;  // key -> the chunk it was last put in
  size_t first_open = 0;                               // chunks before it are full
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t c = first_open;
    if (auto it = last_chunk.find(keys[i]); it != last_chunk.end()) c = std::max(c, it->second + 1);
    while (c < chunks.size() && chunks[c].size() >= max) ++c;
    if (c == chunks.size()) chunks.emplace_back();
    chunks[c].push_back(i);
    last_chunk[keys[i]] = c;
    while (first_open < chunks.size() && chunks[first_open].size() >= max) ++first_open;
  }
  return chunks;
}

std::vector<size_t> LastPerKey(const std::vector<std::string>& keys) {
  std::unordered_map<std::string, size_t> last;
  for (size_t i = 0; i < keys.size(); ++i) last[keys[i]] = i;
  std::vector<size_t> out;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (last[keys[i]] == i) out.push_back(i);
  }
  return out;
}

void SettleAll(const net::ApiError& error, std::span<const size_t> indices,
               std::vector<DeliveryOutcome>& out) {
  const DeliveryOutcome outcome = error.ToOutcome();
  for (size_t i : indices) out[i] = outcome;
}

}  // namespace crmhub::adapters::kit
