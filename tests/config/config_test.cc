#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace crmhub::config {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// A schema like the daemon's, small enough to read in the test.
Schema TestSchema() {
  Schema s;
  s.sections.push_back(SectionSpec{
      "daemon",
      "d",
      {
          {.name = "data_dir", .type = Type::kPath, .default_value = "\"var\"", .description = "x"},
          {.name = "io_threads",
           .type = Type::kInt,
           .default_value = "2",
           .description = "x",
           .min = 1,
           .max = 64},
          {.name = "drain_timeout",
           .type = Type::kDuration,
           .default_value = "\"30s\"",
           .description = "x"},
          {.name = "verbose", .type = Type::kBool, .default_value = "false", .description = "x"},
      }});
  s.sections.push_back(SectionSpec{"http",
                                   "h",
                                   {
                                       {.name = "listen",
                                        .type = Type::kStringList,
                                        .default_value = "[\"127.0.0.1:8080\"]",
                                        .description = "x"},
                                       {.name = "max_body",
                                        .type = Type::kSize,
                                        .default_value = "\"1MiB\"",
                                        .description = "x"},
                                   }});
  s.sections.push_back(SectionSpec{"log",
                                   "l",
                                   {{.name = "format",
                                     .type = Type::kEnum,
                                     .default_value = "\"text\"",
                                     .description = "x",
                                     .choices = {"text", "json"}}}});
  s.sections.push_back(SectionSpec{"queue", "q", {}});
  s.sections.push_back(
      SectionSpec{"queue.lanes.*",
                  "lane",
                  {{.name = "max_attempts", .type = Type::kInt, .description = "x", .min = 1}}});
  s.adapter_types.push_back(AdapterSchema{
      "webhook",
      "generic",
      {
          {.name = "secret_file", .type = Type::kSecret, .description = "x", .required = true},
          {.name = "allow_ips", .type = Type::kStringList, .description = "x"},
      }});
  return s;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("crmhub-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir_ / "secrets");
    creds_ = dir_ / "creds";
    fs::create_directories(creds_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  Result<Config> Load(const std::string& text) {
    path_ = Write("crmhub.toml", text);
    return LoadConfig(path_, TestSchema(), LoadOptions{creds_});
  }
  // The error text must start with FILE:LINE:COL.
  std::string Loc(int line, int col) const {
    return path_.string() + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
  }

  fs::path dir_, creds_, path_;
};

TEST_F(ConfigTest, EmptyFileGivesDefaultsEverywhere) {
  auto cfg = Load("");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const Section& d = cfg->Get("daemon");
  EXPECT_EQ(d.GetInt("io_threads"), 2);
  EXPECT_EQ(d.GetDuration("drain_timeout"), std::chrono::seconds(30));
  EXPECT_FALSE(d.GetBool("verbose"));
  EXPECT_FALSE(d.Has("io_threads"));
  EXPECT_EQ(d.GetPath("data_dir"), fs::path("var"));  // defaults stay relative to the cwd
  EXPECT_EQ(cfg->Get("http").GetStringList("listen"), std::vector<std::string>{"127.0.0.1:8080"});
  EXPECT_EQ(cfg->Get("http").GetSize("max_body"), 1024u * 1024u);
  EXPECT_TRUE(cfg->Adapters().empty());
}

TEST_F(ConfigTest, ValuesAreTypedAndPathsRelativeToTheFile) {
  auto cfg = Load(
      "[daemon]\n"
      "data_dir = \"state\"\n"
      "io_threads = 4\n"
      "drain_timeout = \"1m30s\"\n"
      "verbose = true\n"
      "[http]\n"
      "listen = [\"127.0.0.1:0\", \"[::1]:0\"]\n"
      "max_body = \"64KiB\"\n"
      "[log]\nformat = \"json\"\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const Section& d = cfg->Get("daemon");
  EXPECT_TRUE(d.Has("io_threads"));
  EXPECT_EQ(d.GetInt("io_threads"), 4);
  EXPECT_EQ(d.GetDuration("drain_timeout"), std::chrono::seconds(90));
  EXPECT_TRUE(d.GetBool("verbose"));
  EXPECT_EQ(d.GetPath("data_dir"), (dir_ / "state").lexically_normal());
  EXPECT_EQ(cfg->Get("http").GetSize("max_body"), 65536u);
  EXPECT_EQ(cfg->Get("http").GetStringList("listen").size(), 2u);
  EXPECT_EQ(cfg->Get("log").GetString("format"), "json");
}

TEST_F(ConfigTest, UnknownKeyIsReportedAtItsLineAndColumn) {
  auto cfg = Load("[daemon]\nio_threads = 2\n  io_thread = 3\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(cfg.status().message(), HasSubstr(Loc(3, 3) + "[daemon] unknown key \"io_thread\""));
  EXPECT_THAT(cfg.status().message(), HasSubstr("known keys: data_dir, io_threads"));
}

TEST_F(ConfigTest, UnknownSectionIsReported) {
  auto cfg = Load("[deamon]\nio_threads = 2\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr(Loc(1, 2) + "unknown section [deamon]"));
}

TEST_F(ConfigTest, WrongTypeNamesKeyAndBothTypes) {
  auto cfg = Load("[daemon]\nio_threads = \"four\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr(Loc(2, 14) + "[daemon] io_threads: expected an integer, got a string"));
}

TEST_F(ConfigTest, IntegerBoundsAreChecked) {
  auto cfg = Load("[daemon]\nio_threads = 0\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr(Loc(2, 14) + "[daemon] io_threads: 0 is below the minimum 1"));
}

TEST_F(ConfigTest, BadDurationAndSizeAreRejectedWithReason) {
  auto cfg = Load("[daemon]\ndrain_timeout = \"30 seconds\"\n[http]\nmax_body = \"1.5MiB\"\n");
  ASSERT_FALSE(cfg.ok());
  const std::string& m = cfg.status().message();
  EXPECT_THAT(m, HasSubstr(Loc(2, 17) + "[daemon] drain_timeout: invalid duration \"30 seconds\""));
  EXPECT_THAT(m, HasSubstr(Loc(4, 12) + "[http] max_body: invalid size \"1.5MiB\""));
}

TEST_F(ConfigTest, EnumRejectsOtherValues) {
  auto cfg = Load("[log]\nformat = \"xml\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr(Loc(2, 10) + "[log] format: \"xml\" is not one of: text, json"));
}

TEST_F(ConfigTest, ListMustHoldStrings) {
  auto cfg = Load("[http]\nlisten = [\"127.0.0.1:1\", 8080]\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("[http] listen: expected an array of strings"));
}

TEST_F(ConfigTest, SyntaxErrorIsReportedWithPosition) {
  auto cfg = Load("[daemon]\nio_threads = = 2\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr(path_.string() + ":2:"));
}

TEST_F(ConfigTest, EveryErrorIsReportedInOneRun) {
  auto cfg = Load("[daemon]\nio_threads = \"x\"\nbogus = 1\n[log]\nformat = \"xml\"\n");
  ASSERT_FALSE(cfg.ok());
  const std::string& m = cfg.status().message();
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 2) << m;  // three lines
}

TEST_F(ConfigTest, MissingConfigFileIsAnError) {
  auto cfg = LoadConfig(dir_ / "nope.toml", TestSchema());
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("nope.toml:1:1: cannot read config file"));
}

TEST_F(ConfigTest, SecretIsReadFromFileRelativeToConfigAndStripped) {
  Write("secrets/site-hmac", "s3cr3t-value\n");
  auto cfg = Load("[adapters.site]\ntype = \"webhook\"\nsecret_file = \"secrets/site-hmac\"\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  ASSERT_EQ(cfg->Adapters().size(), 1u);
  const Section& site = cfg->Adapters()[0];
  EXPECT_EQ(site.id(), "site");
  EXPECT_EQ(site.name(), "adapters.site");
  EXPECT_EQ(site.GetSecret("secret_file").Reveal(), "s3cr3t-value");
  EXPECT_TRUE(site.GetBool("enabled"));  // common key default
}

TEST_F(ConfigTest, BareSecretNameComesFromCredentialsDirectory) {
  std::ofstream(creds_ / "site-hmac") << "from-systemd";
  auto cfg = Load("[adapters.site]\ntype = \"webhook\"\nsecret_file = \"site-hmac\"\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->Adapters()[0].GetSecret("secret_file").Reveal(), "from-systemd");
}

TEST_F(ConfigTest, BareSecretNameWithoutCredentialsDirectoryExplains) {
  path_ =
      Write("crmhub.toml", "[adapters.site]\ntype = \"webhook\"\nsecret_file = \"site-hmac\"\n");
  auto cfg = LoadConfig(path_, TestSchema(), LoadOptions{fs::path()});
  // An empty credentials dir path means "set but empty": the file is missing.
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr(Loc(3, 15) + "[adapters.site] secret_file:"));
}

TEST_F(ConfigTest, MissingSecretFileIsReportedAtTheKeyAndNeverPrintsContent) {
  auto cfg = Load("[adapters.site]\ntype = \"webhook\"\nsecret_file = \"secrets/absent\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(
      cfg.status().message(),
      HasSubstr(Loc(3, 15) + "[adapters.site] secret_file: cannot read the secret file it names"));
  EXPECT_THAT(cfg.status().message(), HasSubstr("No such file or directory"));
  // The value is not repeated (it may be a secret pasted for a file name).
  EXPECT_THAT(cfg.status().message(), ::testing::Not(HasSubstr("secrets/absent")));
}

TEST_F(ConfigTest, EmptySecretFileIsRejected) {
  Write("secrets/empty", "\n");
  auto cfg = Load("[adapters.site]\ntype = \"webhook\"\nsecret_file = \"secrets/empty\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("is empty"));
}

TEST_F(ConfigTest, SecretValueNeverAppearsInErrors) {
  // A secret written where a path is expected must not be echoed back
  // in full when another error is reported in the same section.
  Write("secrets/k", "TOPSECRET");
  auto cfg =
      Load("[adapters.site]\ntype = \"webhook\"\nsecret_file = \"secrets/k\"\nallow_ips = 1\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), ::testing::Not(HasSubstr("TOPSECRET")));
}

TEST_F(ConfigTest, UnknownAdapterTypeListsKnownOnes) {
  auto cfg = Load("[adapters.x]\ntype = \"telegraph\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr(Loc(2, 8) +
                        "[adapters.x] type: unknown adapter type \"telegraph\" (known: webhook)"));
}

TEST_F(ConfigTest, AdapterWithoutTypeOrWithBadIdIsRejected) {
  auto cfg =
      Load("[adapters.site]\nsecret_file = \"a/b\"\n[adapters.\"Bad Id\"]\ntype = \"webhook\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(), HasSubstr("[adapters.site] type: required"));
  EXPECT_THAT(cfg.status().message(), HasSubstr("adapter id \"Bad Id\" may contain only"));
}

TEST_F(ConfigTest, RequiredAdapterKeyMissingPointsAtTheSection) {
  auto cfg = Load("\n[adapters.site]\ntype = \"webhook\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr(Loc(2, 11) + "[adapters.site] secret_file: required key is missing"));
}

TEST_F(ConfigTest, UnknownAdapterKeyIsRejected) {
  Write("secrets/k", "k");
  auto cfg =
      Load("[adapters.site]\ntype = \"webhook\"\nsecret_file = \"secrets/k\"\nsignature = 1\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(cfg.status().message(),
              HasSubstr(Loc(4, 1) + "[adapters.site] unknown key \"signature\""));
}

TEST_F(ConfigTest, LanesAreSectionsWithTheirOwnSchema) {
  auto cfg = Load("[queue.lanes.\"in.site\"]\nmax_attempts = 5\n[queue.lanes.\"out.ozon\"]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto lanes = cfg->Lanes();
  ASSERT_EQ(lanes.size(), 2u);
  EXPECT_EQ(lanes[0].id(), "in.site");
  EXPECT_EQ(lanes[0].GetInt("max_attempts"), 5);
  EXPECT_FALSE(lanes[1].Has("max_attempts"));
  auto bad = Load("[queue.lanes.x]\nmax_attempts = 0\nfoo = 1\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("[queue.lanes.x] max_attempts: 0 is below the minimum 1"));
  EXPECT_THAT(bad.status().message(), HasSubstr("[queue.lanes.x] unknown key \"foo\""));
}

TEST_F(ConfigTest, ErrorAtPointsAtTheKeyOrTheSection) {
  Write("secrets/k", "k");
  auto cfg = Load(
      "[adapters.site]\ntype = \"webhook\"\nsecret_file = \"secrets/k\"\nallow_ips = "
      "[\"300.1.1.1/8\"]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const Section& s = cfg->Adapters()[0];
  Status st = s.ErrorAt("allow_ips", "bad CIDR \"300.1.1.1/8\"");
  EXPECT_EQ(st.message(), Loc(4, 13) + "[adapters.site] allow_ips: bad CIDR \"300.1.1.1/8\"");
  EXPECT_EQ(s.LocationOf("mapping").line, 1);  // absent: the section header
}

TEST_F(ConfigTest, ReadingAnUndeclaredKeyIsAProgrammingError) {
  auto cfg = Load("");
  ASSERT_TRUE(cfg.ok());
  EXPECT_THROW(cfg->Get("daemon").GetString("nope"), std::logic_error);
  EXPECT_THROW(cfg->Get("daemon").GetString("io_threads"), std::logic_error);
  EXPECT_THROW(cfg->Get("nosuch"), std::logic_error);
}

// An owner's keys, declared once and read through the declarations.
struct TestKeys : KeySet {
  Key<Type::kUrl> base_url = Declare<Type::kUrl>(
      {.name = "base_url", .default_value = "\"https://api.example.ru/\"", .description = "x"});
  Key<Type::kIdList> warehouses =
      Declare<Type::kIdList>({.name = "warehouses", .default_value = "[]", .description = "x"});
  Key<Type::kStringList> keys = Declare<Type::kStringList>({.name = "keys", .description = "x"});
  Key<Type::kInt> page = Declare<Type::kInt>(
      {.name = "page", .default_value = "50", .description = "x", .min = 1, .max = 50});
};

class TypedKeyTest : public ConfigTest {
 protected:
  Result<Config> LoadTyped(const std::string& adapter_keys) {
    Schema schema = TestSchema();
    schema.adapter_types.push_back(AdapterSchema{"typed", "t", keys_.specs()});
    path_ = Write("crmhub.toml", "[adapters.a]\ntype = \"typed\"\n" + adapter_keys);
    return LoadConfig(path_, schema, LoadOptions{creds_});
  }
  const TestKeys keys_;
};

TEST_F(TypedKeyTest, DeclaredOnceInOrderAndReadTyped) {
  ASSERT_EQ(keys_.specs().size(), 4u);
  EXPECT_EQ(keys_.specs()[0].name, "base_url");
  EXPECT_EQ(keys_.specs()[0].type, Type::kUrl);
  EXPECT_EQ(keys_.specs()[1].type, Type::kIdList);
  auto cfg = LoadTyped("warehouses = [507, \"22\"]\nkeys = \"/id\"\n");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  const Section& s = cfg->Adapters()[0];
  EXPECT_EQ(keys_.base_url.Get(s), "https://api.example.ru");  // trailing '/' dropped
  EXPECT_EQ(keys_.warehouses.Get(s), (std::vector<int64_t>{507, 22}));
  EXPECT_EQ(keys_.keys.Get(s), std::vector<std::string>{"/id"});  // one string: a list of one
  EXPECT_EQ(keys_.page.Get(s), 50);
  EXPECT_FALSE(keys_.page.IsSet(s));
  EXPECT_EQ(keys_.page.Find(s), 50);
  EXPECT_EQ(keys_.keys.Find(s), std::vector<std::string>{"/id"});
  auto empty = LoadTyped("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(keys_.keys.Find(empty->Adapters()[0]), std::nullopt);  // optional, left out
  EXPECT_EQ(keys_.page.ErrorAt(s, "too big").message(),
            Loc(1, 11) + "[adapters.a] page: too big");  // absent: the section header
}

TEST_F(TypedKeyTest, UrlsAndIdListsAreCheckedAtLoad) {
  struct Case {
    std::string text;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"base_url = \"ftp://x\"", "[adapters.a] base_url: must start with http:// or https://"},
           {"base_url = \"https://\"", "[adapters.a] base_url: has no host after the scheme"},
           {"base_url = \"https://a b\"", "[adapters.a] base_url: must not contain spaces"},
           {"warehouses = [\"12x\"]", "[adapters.a] warehouses: \"12x\" is not a numeric id"},
           {"warehouses = [0]", "[adapters.a] warehouses: 0 is not a positive id"},
           {"warehouses = [1.5]", "[adapters.a] warehouses: expected ids"},
           {"warehouses = 5", "[adapters.a] warehouses: expected an array of ids"},
       }) {
    auto cfg = LoadTyped(c.text + "\n");
    ASSERT_FALSE(cfg.ok()) << c.text;
    EXPECT_THAT(cfg.status().message(), HasSubstr(path_.string() + ":3:")) << c.text;
    EXPECT_THAT(cfg.status().message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(RenderSchemaMarkdownTest, ListsEverySectionKeyAndAdapterType) {
  const std::string md = RenderSchemaMarkdown(TestSchema());
  EXPECT_THAT(md, HasSubstr("## [daemon]"));
  EXPECT_THAT(md, HasSubstr("| `io_threads` | integer (1..64) | `2` |"));
  EXPECT_THAT(md, HasSubstr("## [queue.lanes.<lane>]"));
  EXPECT_THAT(md, HasSubstr("### type = \"webhook\""));
  EXPECT_THAT(md, HasSubstr("| `secret_file` | secret file | required |"));
  EXPECT_THAT(md, HasSubstr("| `format` | one of text, json | `\"text\"` |"));
}

}  // namespace
}  // namespace crmhub::config
