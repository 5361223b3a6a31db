#pragma once
// SpecType: the AdapterType of an adapter configured by one group of keys
// declared from a Spec (SignedNotificationKeys in kit/signed_notification.h,
// PaymentProviderKeys in kit/payment_provider.h): the schema lists the keys
// (`type`, `description`, then the group's, in its docs order), and the
// factory reads them with `read` into a Config and builds the adapter with
// `make`.
//
// REQUIRES of Keys: a constructor Keys(config::KeySet&, const Keys::Spec&)
// that declares the group into the set.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "adapters/adapter.h"
#include "base/status.h"
#include "config/config.h"

namespace crmhub::adapters::kit {

template <typename Keys, typename Config>
struct SpecType {
  using Read = Result<Config> (*)(const config::Section& section, const Keys& keys);
  using Make =
      std::function<std::unique_ptr<Adapter>(Config config, const AdapterContext& context)>;

  static AdapterType Build(std::string type, std::string description, typename Keys::Spec spec,
                           Read read, Make make) {
    AdapterType t;
    t.schema = {
        .type = std::move(type), .description = std::move(description), .keys = Set(spec).specs()};
    t.factory = [spec = std::move(spec), read, make = std::move(make)](
                    const config::Section& section,
                    const AdapterContext& context) -> Result<std::unique_ptr<Adapter>> {
      Result<Config> c = read(section, Set(spec).keys);
      if (!c.ok()) return c.status();
      return make(std::move(c).value(), context);
    };
    return t;
  }

  // `make` for an adapter A constructed as A(Config, const AdapterContext&).
  template <typename A>
  static Make MakerOf() {
    return [](Config c, const AdapterContext& context) -> std::unique_ptr<Adapter> {
      return std::make_unique<A>(std::move(c), context);
    };
  }

 private:
  // The group declared into a set of its own (never copied: Keys refers to it).
  struct Set : config::KeySet {
    explicit Set(const typename Keys::Spec& spec) : keys(*this, spec) {}
    Keys keys;
  };
};

}  // namespace crmhub::adapters::kit
