#pragma once
// SendChunks: a target's items sent in the requests its system accepts, for
// systems that answer a request as a whole (no per-item results: Yandex
// Market's {"status":"OK"}), settled from each answer.
//
//   kit::SendChunks(items, where, keys, kMaxPerRequest,
//                   [&](const std::vector<Item>& r) { return client.Update(r); }, out);
//
// Header-only; thread-safe as `send` is.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "adapters/kit/target.h"
#include "base/delivery.h"
#include "net/api_client.h"

namespace crmhub::adapters::kit {

// Sends items[i] (key keys[i], batch position where[i]) in requests of at
// most `max` distinct keys, in order (ChunkDistinct: a repeated key goes to
// a later request, so the later command wins). An answer settles its
// request's items: ok -> Ok; an error -> ApiError::ToOutcome. Once a request
// is throttled or fails in passing (ApiError::retryable), the later ones
// are not sent and share its outcome: they would meet the same.
// REQUIRES: items, where and keys of one size; out indexed by `where`.
template <typename Item, typename Send>
void SendChunks(const std::vector<Item>& items, const std::vector<size_t>& where,
                const std::vector<std::string>& keys, size_t max, const Send& send,
                std::vector<DeliveryOutcome>& out) {
  std::optional<net::ApiError> stop;
  for (const std::vector<size_t>& chunk : ChunkDistinct(keys, max)) {
    std::vector<Item> request;
    std::vector<size_t> indices;
    for (size_t i : chunk) {
      request.push_back(items[i]);
      indices.push_back(where[i]);
    }
    if (!stop) {
      auto answer = send(request);
      if (answer.ok()) {
        for (size_t i : indices) out[i] = DeliveryOutcome::Ok();
        continue;
      }
      if (!answer.error().retryable()) {
        SettleAll(answer.error(), indices, out);
        continue;
      }
      stop = answer.error();
    }
    SettleAll(*stop, indices, out);
  }
}

}  // namespace crmhub::adapters::kit
