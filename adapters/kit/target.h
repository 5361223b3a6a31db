#pragma once
// What every target's Deliver does before and after its system's own part:
// read the batch's commands, split items into requests the system accepts,
// and settle items from a request's outcome.
//
//   std::vector<DeliveryOutcome> out(batch.size());
//   for (const kit::TargetCommand& c : kit::ReadCommands(batch, {"set_stock"}, "ozon", out)) ...
//   for (const auto& request : kit::ChunkDistinct(keys, kMaxPerRequest)) ...
//   if (!reply.ok()) kit::SettleAll(reply.error(), indices, out);
//
// Pure functions; thread-safe.

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "base/delivery.h"
#include "net/api_client.h"

namespace crmhub::adapters::kit {

struct TargetCommand {
  size_t index = 0;     // into the batch (and `out`)
  std::string name;     // Command::name: "set_stock", "set_price"
  nlohmann::json item;  // the payload: a JSON object
  // Command::attempt: 1 when no delivery of this command was ever tried
  // (nothing of it can have reached the system), > 1 after a retry or a
  // crash mid-delivery.
  int attempt = 1;
};

// The batch's commands, in order. A command whose payload is not a JSON
// object (depth-capped parse), or whose command is not in `commands`, gets a
// Fail outcome in `out` saying so (prefixed with `system`) and is left out.
// REQUIRES: out.size() == batch.size().
std::vector<TargetCommand> ReadCommands(std::span<const Command> batch,
                                        std::initializer_list<std::string_view> commands,
                                        std::string_view system, std::vector<DeliveryOutcome>& out);

// Splits items (by their keys, in order) into requests of at most `max`
// items whose keys are distinct; an item whose key is already in a request
// goes to a later one, so the later command is sent later and wins. Returns
// positions into `keys`.
std::vector<std::vector<size_t>> ChunkDistinct(const std::vector<std::string>& keys, size_t max);

// The positions of the last item of each key, in order: the items before
// them with the same key are superseded (a newer absolute value).
std::vector<size_t> LastPerKey(const std::vector<std::string>& keys);

// Gives each of `indices` the outcome `error` means (ApiError::ToOutcome).
void SettleAll(const net::ApiError& error, std::span<const size_t> indices,
               std::vector<DeliveryOutcome>& out);

}  // namespace crmhub::adapters::kit
