#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

#include "dals/train/config.hpp"

namespace dals {
namespace {

ParseOutcome parse(std::vector<std::string> args, TrainConfig& config) {
  args.insert(args.begin(), "dals-train");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  std::string out;
  return parse_train_config(static_cast<int>(argv.size()), argv.data(), config, out);
}

std::string usage_error(std::vector<std::string> args) {
  TrainConfig config;
  try {
    parse(std::move(args), config);
  } catch (const UsageError& e) {
    return e.message;
  }
  return "";
}

TEST(Config, DefaultsAndOverrides) {
  TrainConfig config;
  ASSERT_EQ(parse({"--data", "d", "--output", "o"}, config), ParseOutcome::run);
  EXPECT_EQ(config.factors, 64);
  EXPECT_DOUBLE_EQ(config.lambda, 1.0);
  EXPECT_EQ(config.regularization, Regularization::power);
  EXPECT_DOUBLE_EQ(config.lambda_exponent, 0.5);
  EXPECT_EQ(config.iterations, 10);
  EXPECT_FALSE(config.no_bias);
  EXPECT_EQ(config.solver, Solver::cholesky);
  EXPECT_EQ(config.cg_precision, Precision::half);
  TrainConfig other;
  parse({"--data", "d", "-o", "o", "-k", "8", "--lambda", "0.5", "--regularization", "l2", "--no-bias", "--iterations",
         "3", "--threads", "2", "--seed", "9"},
        other);
  EXPECT_EQ(other.factors, 8);
  EXPECT_DOUBLE_EQ(other.lambda, 0.5);
  EXPECT_EQ(other.regularization, Regularization::l2);
  EXPECT_TRUE(other.no_bias);
  EXPECT_EQ(other.iterations, 3);
  EXPECT_EQ(other.threads, 2);
  EXPECT_EQ(other.seed, 9u);
  TrainConfig cg;
  parse({"--data", "d", "-o", "o", "--solver", "cg", "--cg-precision", "float"}, cg);
  EXPECT_EQ(cg.solver, Solver::cg);
  EXPECT_EQ(cg.cg_precision, Precision::single);
}

// A checkpoint records how CG read the fixed side (a resume that changes it
// needs --resume-override); a Cholesky run's options do not mention it.
TEST(Config, HyperparametersNameTheCgPrecisionOfCgRunsOnly) {
  TrainConfig cholesky, cg;
  parse({"--data", "d", "-o", "o"}, cholesky);
  parse({"--data", "d", "-o", "o", "--solver", "cg"}, cg);
  EXPECT_EQ(cholesky.hyperparameters_json().find("cg_precision"), std::string::npos);
  EXPECT_NE(cg.hyperparameters_json().find("\"cg_precision\":\"half\""), std::string::npos);
}

TEST(Config, ErrorsNameTheOption) {
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--lambda", "-1"}).find("--lambda"), std::string::npos);
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--factors", "-1"}).find("--factors"), std::string::npos);
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--iterations", "-2"}).find("--iterations"),
            std::string::npos);
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--no-such-option"}).find("no-such-option"),
            std::string::npos);
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--regularization", "l1"}).find("regularization"),
            std::string::npos);
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--cg-precision", "double"}).find("cg-precision"),
            std::string::npos);
  EXPECT_NE(usage_error({"--data", "d", "--output", "o", "--factors", "many"}).find("factors"), std::string::npos);
  EXPECT_NE(usage_error({"--output", "o"}).find("--data"), std::string::npos);
  EXPECT_NE(usage_error({"--data", "d"}).find("--output"), std::string::npos);
}

TEST(Config, ConfigFileFillsInAndCommandLineWins) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("dals-config-test-" + std::to_string(::getpid()) + ".ini")).string();
  {
    std::ofstream f(path);
    f << "# a comment\ndata = from-file\noutput = out-file\nfactors = 12\nlambda = 0.3\nregularization = l2\n";
  }
  TrainConfig config;
  parse({"--config", path, "--factors", "20"}, config);
  EXPECT_EQ(config.data, "from-file");
  EXPECT_EQ(config.output, "out-file");
  EXPECT_EQ(config.factors, 20);  // command line wins
  EXPECT_DOUBLE_EQ(config.lambda, 0.3);
  EXPECT_EQ(config.regularization, Regularization::l2);
  {
    std::ofstream f(path);
    f << "lambda = 0.1\nbogus = 3\n";
  }
  EXPECT_NE(usage_error({"--config", path, "--data", "d", "--output", "o"}).find(path), std::string::npos);
  EXPECT_NE(usage_error({"--config", "/nonexistent/x.ini"}).find("/nonexistent/x.ini: cannot open"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Config, HelpIsShownNotRun) {
  TrainConfig config;
  std::string out;
  const char* argv[] = {"dals-train", "--help"};
  EXPECT_EQ(parse_train_config(2, argv, config, out), ParseOutcome::help_shown);
  EXPECT_NE(out.find("--lambda"), std::string::npos);
  EXPECT_NE(out.find("--regularization"), std::string::npos);
}

}  // namespace
}  // namespace dals
