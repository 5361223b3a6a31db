#include "base/json_list.h"

#include <cstddef>
#include <iterator>

#include <nlohmann/json.hpp>

namespace crmhub {
namespace {

using Json = nlohmann::json;

// A char iterator that publishes how far the parser has read. nlohmann's
// lexer reads one character at a time and never reads past a '{' or '}'
// before reporting it, so at start_object the '{' is the last character
// read, and at end_object the '}' is.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, const char** read_to) : p_(p), read_to_(read_to) {}
  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    *read_to_ = ++p_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return p_ == other.p_; }
  bool operator!=(const CountingIterator& other) const { return p_ != other.p_; }

 private:
  const char* p_;
  const char** read_to_;
};

class ListHandler final : public nlohmann::json_sax<Json> {
 public:
  ListHandler(const char** read_to, std::span<const std::string_view> path,
              std::span<const std::string_view> keys, JsonList& out)
      : read_to_(read_to), path_(path), keys_(keys), out_(out) {}

  std::string error;

  // Scalars become text only where they are kept (Slot); a page holds
  // thousands that are not.
  bool null() override { return Unkept(); }
  bool boolean(bool v) override {
    if (std::string* slot = Slot()) *slot = v ? "true" : "false";
    return true;
  }
  bool number_integer(number_integer_t v) override {
    if (std::string* slot = Slot()) *slot = std::to_string(v);
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (std::string* slot = Slot()) *slot = std::to_string(v);
    return true;
  }
  bool number_float(number_float_t, const string_t&) override { return Unkept(); }
  bool string(string_t& v) override {
    if (std::string* slot = Slot()) *slot = std::move(v);
    return true;
  }
  bool binary(binary_t&) override { return Unkept(); }

  bool start_object(std::size_t) override {
    const int matched = ValueMatch();
    if (TopIsTheArray()) {
      AddElement();
      element_begin_ = *read_to_ - 1;  // the '{' just read
    }
    const bool on_path = matched >= 0 && static_cast<size_t>(matched) < path_.size();
    frames_.push_back({false, on_path ? matched : -1});
    return true;
  }

  bool key(string_t& k) override {
    key_ = k;
    return true;
  }

  bool end_object() override {
    frames_.pop_back();
    if (TopIsTheArray()) {
      out_.elements.back().text =
          std::string_view(element_begin_, static_cast<size_t>(*read_to_ - element_begin_));
    }
    return true;
  }

  bool start_array(std::size_t) override {
    const int matched = ValueMatch();
    if (TopIsTheArray()) AddElement();  // an array as an element: no text
    const bool target = !out_.found && matched == static_cast<int>(path_.size());
    if (target) out_.found = true;
    frames_.push_back({true, -1, target});
    return true;
  }

  bool end_array() override {
    frames_.pop_back();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  struct Frame {
    bool array = false;
    int matched = -1;     // objects: path members leading here (-1: off the path)
    bool target = false;  // arrays: the one the path names
  };

  // How many path members lead to the value about to start (-1: none).
  int ValueMatch() const {
    if (frames_.empty()) return 0;  // the root
    const Frame& top = frames_.back();
    if (top.array || top.matched < 0 || static_cast<size_t>(top.matched) >= path_.size()) return -1;
    return key_ == path_[static_cast<size_t>(top.matched)] ? top.matched + 1 : -1;
  }

  bool TopIsTheArray() const { return !frames_.empty() && frames_.back().target; }

  // The open object is an element of the array.
  bool TopIsAnElement() const {
    return frames_.size() >= 2 && !frames_.back().array && frames_[frames_.size() - 2].target;
  }

  void AddElement() {
    out_.elements.emplace_back();
    out_.elements.back().fields.resize(keys_.size());
  }

  // Where a string, boolean or integer starting now is kept: an asked-for
  // field of an element, or a member beside the array. nullptr: nowhere.
  std::string* Slot() {
    if (TopIsTheArray()) {
      AddElement();  // a scalar element: no text, no fields
      return nullptr;
    }
    if (TopIsAnElement()) {
      for (size_t i = 0; i < keys_.size(); ++i) {
        if (keys_[i] == key_) return &out_.elements.back().fields[i];
      }
      return nullptr;
    }
    if (!path_.empty() && !frames_.empty() && !frames_.back().array &&
        frames_.back().matched == static_cast<int>(path_.size()) - 1) {
      return &out_.siblings.emplace_back(key_, std::string()).second;  // in the array's parent
    }
    return nullptr;
  }

  // Nulls, floats and binary values are kept nowhere, but one may still be
  // an element of the array.
  bool Unkept() {
    if (TopIsTheArray()) AddElement();
    return true;
  }

  const char** read_to_;
  std::span<const std::string_view> path_;
  std::span<const std::string_view> keys_;
  JsonList& out_;
  std::vector<Frame> frames_;
  std::string key_;
  const char* element_begin_ = nullptr;
};

}  // namespace

std::string_view JsonList::Sibling(std::string_view key) const {
  for (const auto& [k, v] : siblings) {
    if (k == key) return v;
  }
  return {};
}

Result<JsonList> SplitJsonList(std::string_view document, std::span<const std::string_view> path,
                               std::span<const std::string_view> keys) {
  JsonList out;
  const char* read_to = document.data();
  ListHandler handler(&read_to, path, keys, out);
  CountingIterator first(document.data(), &read_to);
  CountingIterator last(document.data() + document.size(), &read_to);
  if (!Json::sax_parse(first, last, &handler)) {
    return Status::InvalidArgument("malformed JSON: " + handler.error);
  }
  return out;
}

}  // namespace crmhub
