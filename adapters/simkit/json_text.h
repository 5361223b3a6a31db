#pragma once
// JsonText: JSON text written as it goes, without building a value tree.
//
// A simulator's list page holds up to a thousand records. Building each one
// as a nlohmann::json tree (a std::map per object) and dumping the page was
// most of the Ozon simulator's CPU in `crmhub bench orders`, which shares
// the machine's cores with the daemon it measures. Records written straight
// as text cost a fraction of that, and the bytes on the wire are the same
// JSON (key order aside, which JSON leaves free).
//
// The caller keeps the structure well formed: every Key is followed by one
// value, every Begin* has its End*.

#include <cstdint>
#include <string>
#include <string_view>

namespace crmhub::simkit {

class JsonText {
 public:
  JsonText& BeginObject() { return Open('{'); }
  JsonText& EndObject() { return Close('}'); }
  JsonText& BeginArray() { return Open('['); }
  JsonText& EndArray() { return Close(']'); }

  JsonText& Key(std::string_view key);
  JsonText& String(std::string_view value);
  JsonText& Int(int64_t value);
  JsonText& Bool(bool value);
  // A value that is already JSON text (a record written earlier).
  JsonText& Raw(std::string_view json);

  // Shorthands for one member.
  JsonText& Member(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonText& Member(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonText& Member(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonText& Member(std::string_view key, int value) { return Key(key).Int(value); }
  JsonText& Member(std::string_view key, bool value) { return Key(key).Bool(value); }

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Separate();
  JsonText& Open(char c);
  JsonText& Close(char c);
  void AppendEscaped(std::string_view s);

  std::string out_;
  bool need_comma_ = false;  // a value was written at this level
  bool after_key_ = false;   // the next value is a member's value
};

}  // namespace crmhub::simkit
