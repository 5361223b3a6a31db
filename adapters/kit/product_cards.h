#pragma once
// Product cards: a marketplace's catalogue read into crmhub as `product`
// entities, and the index that lets a stock or price command name the CRM's
// SKU while the marketplace wants its own id.
//
// ProductCard is the one shape every marketplace's card is queued in, so
// that each marketplace's rules map it to a product the same way (docs/
// model.md: sku, name, barcodes, offer_ids {<marketplace>: <its id>}):
//
//   {"sku": "<the seller's article>", "marketplace": "ozon",
//    "marketplace_id": "<the marketplace's own id, as text>",
//    "name": "...", "barcodes": ["..."], "archived": false,
//    "updated_ms": <the card's last change, ms; 0: not given>,
//    "attributes": {<the card's main attributes, as the marketplace names
//                   them>}}
//
// The seller's article (Ozon offer_id, Wildberries vendorCode, Yandex
// Market offerId) is the CRM's SKU: the seller chose it, the CRM knows it.
//
// CatalogPass is the state of a pull's pass over the catalogue, kept in the
// adapter's cursor as {"page_token": "...", "next_ms": ms}: a pass pages
// with the marketplace's own token and, once read, the next one starts
// `interval` later (cards change seldom; a whole pass per poll would spend
// the marketplace's limits on nothing new).
//
// SkuIndex: SKU -> the marketplace's id, filled from the cards a pull read
// and consulted by the target. Thread-safe (the pull and the target run on
// different workers).

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::kit {

struct ProductCard {
  std::string sku;             // the seller's article; required
  std::string marketplace_id;  // the marketplace's own id; required
  std::string name;
  std::vector<std::string> barcodes;
  bool archived = false;
  int64_t updated_ms = 0;
  nlohmann::json attributes = nlohmann::json::object();
};

// The queued record: kind "product", key
// "product:<marketplace_id>:<updated_ms>" (a card unchanged since it was
// queued is a duplicate, an edited one a new record; a card without an
// update time is keyed by a hash of what it holds instead), ordering key the
// SKU, payload the shape above.
InboundEvent ProductEvent(const ProductCard& card, std::string_view marketplace);

// Why a card cannot be queued as a product ("" when it can): no SKU, or no
// marketplace id.
std::string CardProblem(const ProductCard& card);

// A card as a client read it: the kit's shape and the record as sent.
struct PulledCard {
  ProductCard card;
  nlohmann::json raw;
};

class SkuIndex;
// Queues each card of a page read from `where` ("/v3/product/info/list"):
// a ProductEvent, its SKU put in `index` (the marketplace id), or, for a card with a CardProblem,
// an UnreadableRecord naming its position and the problem.
void QueueCards(const std::vector<PulledCard>& cards, std::string_view marketplace,
                std::string_view where, SkuIndex& index, std::vector<InboundEvent>& out);

struct CatalogPass {
  std::string page_token;  // where the pass goes on ("": at the start)
  int64_t next_ms = 0;     // no pass before this (0: one is due)
  bool in_pass = false;    // a pass is being read (page_token may be "")

  // Whether a page is to be read now: a pass in progress, or one due.
  // Starts the pass when it is due.
  bool Due(int64_t now_ms);
  // After a page: `next_token` "" (or an empty page) ends the pass, and
  // the next is due `interval_ms` after `now_ms`. Returns whether the pass
  // goes on.
  bool After(std::string next_token, bool page_empty, int64_t now_ms, int64_t interval_ms);

  nlohmann::json ToObject() const;
  // Absent members are "" / 0 / false; nullopt for a non-object or a
  // negative time.
  static std::optional<CatalogPass> FromObject(const nlohmann::json& j);
};

class SkuIndex {
 public:
  void Put(const std::string& sku, const std::string& marketplace_id);
  // Replaces the whole index (a full catalogue read).
  void Replace(std::map<std::string, std::string> all);
  std::optional<std::string> Find(const std::string& sku) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> ids_ GUARDED_BY(mu_);
};

// The dead letter's reason for a command naming a SKU no card has:
// `<prefix>: SKU "<sku>" is not in the <name> catalogue (<where>); pull the
// product cards or give <id_field>` (prefix "ozon", name "Ozon").
std::string UnknownSku(std::string_view prefix, std::string_view name, std::string_view sku,
                       std::string_view where, std::string_view id_field);

}  // namespace crmhub::adapters::kit
