#include "dals/train/config.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dals/core/byte_size.hpp"
#include "dals/core/enum_names.hpp"
#include "dals/core/error.hpp"
#include "dals/core/version.hpp"

namespace dals {

namespace {
std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}
}  // namespace

void TrainConfig::validate() const {
  if (data.empty()) throw Error("--data is required: the dataset directory to train on");
  if (output.empty()) throw Error("--output is required: the model directory to write");
  if (factors < 0 || factors > 4096)
    throw Error("--factors must be in [0, 4096] (0: biases only), got " + std::to_string(factors));
  if (!(lambda >= 0.0) || !std::isfinite(lambda)) throw Error("--lambda must be >= 0, got " + format_number(lambda));
  if (iterations < 0) throw Error("--iterations must be >= 0, got " + std::to_string(iterations));
  if (!(lambda_exponent >= 0.0 && lambda_exponent <= 1.0))
    throw Error("--lambda-exponent must be in [0, 1] (0 = l2, 1 = weighted), got " + format_number(lambda_exponent));
  if (!std::isfinite(bias_lambda) || (bias_lambda < 0 && bias_lambda != -1.0))
    throw Error("--bias-lambda must be >= 0, got " + format_number(bias_lambda));
  if (!(validation_fraction >= 0.0 && validation_fraction < 1.0))
    throw Error("--validation-fraction must be in [0, 1), got " + format_number(validation_fraction));
  if (early_stopping < 0) throw Error("--early-stopping must be >= 0 (0 = off), got " + std::to_string(early_stopping));
  if (early_stopping > 0 && validation_fraction <= 0)
    throw Error("--early-stopping needs --validation-fraction: it stops on the validation RMSE");
  if (factors == 0 && implicit)
    throw Error("--factors 0 (biases only) needs explicit ratings: implicit mode has no biases");
  if (early_stopping > 0 && implicit)
    throw Error("--early-stopping: implicit mode has no validation RMSE yet; train a fixed --iterations");
  if (cg_steps < 1 || cg_steps > 1000) throw Error("--cg-steps must be in [1, 1000], got " + std::to_string(cg_steps));
  if (threads < 0) throw Error("--threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  if (checkpoint_every < 0)
    throw Error("--checkpoint-every must be >= 0 (0 = only at the end), got " + std::to_string(checkpoint_every));
  if (keep_checkpoints < 1) throw Error("--keep-checkpoints must be >= 1, got " + std::to_string(keep_checkpoints));
  if (!(exchange_timeout >= 0) || !std::isfinite(exchange_timeout))
    throw Error("--exchange-timeout must be >= 0 seconds (0 = off), got " + format_number(exchange_timeout));
  if (time_limit < 0) throw Error("--time-limit must be >= 0 seconds (0 = none), got " + std::to_string(time_limit));
  if (!(alpha > 0.0) || !std::isfinite(alpha)) throw Error("--alpha must be > 0, got " + format_number(alpha));
  if (!(epsilon > 0.0) || !std::isfinite(epsilon)) throw Error("--epsilon must be > 0, got " + format_number(epsilon));
  // c - w0 > 0 for every observed entry (c = 1 + alpha f(r) > 1): the
  // solver scales each observed row by its square root.
  if (!(unobserved_weight > 0.0 && unobserved_weight <= 1.0))
    throw Error("--unobserved-weight must be in (0, 1], got " + format_number(unobserved_weight));
  if (eval_k < 1 || eval_k > 100000) throw Error("--eval-k must be in [1, 100000], got " + std::to_string(eval_k));
  if (eval_every < 0)
    throw Error("--eval-every must be >= 0 (0 = after the last iteration), got " + std::to_string(eval_every));
  if (resume == "auto" && checkpoint_dir.empty())
    throw Error("--resume auto needs --checkpoint-dir: the directory to look for checkpoints in");
  if (time_limit > 0 && checkpoint_dir.empty())
    throw Error("--time-limit needs --checkpoint-dir: a run stopped by the time limit saves a checkpoint there");
  if (!checkpoint_dir.empty()) {
    // The model is published by renaming OUTPUT.tmp to OUTPUT: checkpoints
    // inside it would block that (or, with --force, be replaced by it).
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path ckpt = fs::weakly_canonical(checkpoint_dir, ec), out = fs::weakly_canonical(output, ec);
    auto within = [](const fs::path& inner, const fs::path& outer) {
      auto o = outer.begin(), i = inner.begin();
      for (; o != outer.end() && i != inner.end() && *o == *i; ++o, ++i) {
      }
      return o == outer.end();
    };
    if (within(ckpt, out) || within(out, ckpt))
      throw Error("--checkpoint-dir " + checkpoint_dir + " and --output " + output +
                  " must not contain each other: give the checkpoints a directory of their own");
  }
}

void TrainConfig::resolve_regularization() {
  if (!lambda_exponent_given) return;
  if (!(lambda_exponent >= 0.0 && lambda_exponent <= 1.0))
    throw Error("--lambda-exponent must be in [0, 1] (0 = l2, 1 = weighted), got " + format_number(lambda_exponent));
  const Regularization implied = lambda_exponent == 0.0   ? Regularization::l2
                                 : lambda_exponent == 1.0 ? Regularization::weighted
                                                          : Regularization::power;
  if (regularization_given && regularization != implied && regularization != Regularization::power)
    throw Error("--lambda-exponent " + format_number(lambda_exponent) + " contradicts --regularization " +
                regularization_name(regularization) + ": give one of them");
  regularization = implied;
  regularization_given = true;
}

std::string TrainConfig::hyperparameters_json() const { return train_options().model_json(*this).dump(); }

std::string TrainConfig::agreement_text() const { return train_options().agreement_text(*this); }

const OptionTable<TrainConfig>& train_options() {
  using C = TrainConfig;
  constexpr OptionUse local = OptionUse::local;
  static const OptionTable<C> table = [] {
    OptionTable<C> t(
        "Usage: mpirun -n P dals-train --data DIR --output DIR [options]\n"
        "Trains a matrix-factorization model by alternating least squares",
        std::string("dals-train ") + kVersion);
    // Run. Every option but --threads and --quiet must agree across ranks:
    // results do not depend on the thread count, and only rank 0 prints.
    t.add("Run", "data", &C::data, "dataset directory (from dals-partition, dals-generate or dals-import)")
        .add("Run", "output,o", &C::output, "model directory to write (written atomically)")
        .add("Run", "iterations", &C::iterations, "ALS iterations (each: a user half and an item half)")
        .add("Run", "threads", &C::threads, "OpenMP threads per rank; 0 = OMP_NUM_THREADS, else all cores", local)
        .add("Run", "force", &C::force, "replace an existing --output directory")
        .add("Run", "quiet", &C::quiet, "no per-iteration lines (the header and the summary stay)", local)
        .add("Run", "exchange", &C::exchange,
             "allgather: every rank holds both sides whole; routed: each rank holds its own rows and receives the "
             "rows its ratings reference; auto: replicate a side whose table fits 1/8 of the memory per rank, route "
             "the other; the same model bits (and ranking metrics) in every mode")
        .add_custom(
            "Run", "exchange-buffer",
            "bytes of received rows a rank holds at once on a routed side (suffix K, M or G): a half is solved in "
            "chunks of rows whose ratings reference at most this much",
            [](C& c, const std::string& v) {
              c.exchange_buffer = static_cast<std::int64_t>(parse_byte_size(v, "--exchange-buffer"));
            },
            [](const C& c) {
              // As given: 1G, not 1073741824.
              std::int64_t v = c.exchange_buffer;
              const char* unit = "";
              for (const char* u : {"K", "M", "G"})
                if (v % 1024 == 0) v /= 1024, unit = u;
              return nlohmann::json(std::to_string(v) + unit);
            })
        .add("Run", "exchange-timeout", &C::exchange_timeout,
             "seconds a rank may wait in one exchange of factor rows or other collective before the job is ended "
             "with exit code 4: a dead link or rank would otherwise hang every rank until the time limit; rerun "
             "with --resume auto (0: off)");
    t.add("Model", "factors,k", &C::factors, "factor rank k: latent dimensions per user and item")
        .model("factors")
        .add_custom(
            "Model", "lambda",
            "regularization strength (>= 0): each row's ridge is lambda * n^nu for its n ratings. l2 (nu 0) wants "
            "about 100x weighted's (nu 1) values (ml-latest-small: l2 10, weighted 0.1), the default nu 0.5 about 1. "
            "Implicit mode's default: 0.02, weighted",
            [](C& c, const std::string& v) {
              c.lambda = OptionTable<C>::parse_as<double>("--lambda", {v});
              c.lambda_given = true;
            },
            [](const C& c) { return nlohmann::json(c.lambda); })
        .model("lambda")
        .add_custom(
            "Model", "regularization",
            "l2: lambda*(|x|^2+b^2) per row; weighted (ALS-WR): the same times the row's rating count n (with "
            "--implicit: its observed entries plus --unobserved-weight times the other side's rows); power: times "
            "n^nu (--lambda-exponent, 0.5)",
            [](C& c, const std::string& v) {
              c.regularization = OptionTable<C>::parse_as<Regularization>("--regularization", {v});
              c.regularization_given = true;
            },
            [](const C& c) { return nlohmann::json(regularization_name(c.regularization)); })
        .model("regularization")
        .add_custom(
            "Model", "lambda-exponent",
            "nu in [0, 1]: each row's ridge is lambda * n^nu for its n ratings (Rendle et al. 2022): 0 is l2, 1 "
            "weighted, between them --regularization power",
            [](C& c, const std::string& v) {
              c.lambda_exponent = OptionTable<C>::parse_as<double>("--lambda-exponent", {v});
              c.lambda_exponent_given = true;
            },
            [](const C& c) { return nlohmann::json(c.lambda_exponent); })
        .model("lambda_exponent", nullptr, [](const C& c) { return c.regularization == Regularization::power; })
        .add("Model", "lambda-units", &C::lambda_units,
             "spread: the factors' lambda is multiplied by the training ratings' spread around the mean (printed "
             "at start), so that one lambda serves any rating scale, the biases' is not (it needs no scaling); "
             "absolute: lambda as given. Implicit mode: always absolute")
        .model("lambda_units", nullptr, [](const C& c) { return !c.implicit && c.lambda_units == LambdaUnits::spread; })
        .add_custom(
            "Model", "bias-lambda",
            "the user and item biases' lambda, scaled per row as the factors' one (default: --lambda)",
            [](C& c, const std::string& v) {
              c.bias_lambda = OptionTable<C>::parse_as<double>("--bias-lambda", {v});
              if (!(c.bias_lambda >= 0))
                throw UsageError{"--bias-lambda must be >= 0, got " + format_number(c.bias_lambda)};
            },
            [](const C& c) { return nlohmann::json(c.bias_lambda); })
        .model("bias_lambda", nullptr, [](const C& c) { return c.bias_lambda >= 0 && !c.no_bias; })
        .add("Model", "solver", &C::solver,
             "cholesky: exact solve of each row's (k+1)x(k+1) system; cg: a few conjugate-gradient steps, "
             "warm-started from the previous value, O(n_i k) per step")
        .model("solver")
        .add_custom(
            "Model", "heavy-rows",
            "rows with at least this many ratings are solved from normal equations summed per block of the other "
            "side, formed where those ratings' rows are held (on a routed side, their owners send these parts in "
            "place of the rows); auto: where the parts cost fewer bytes than the rows (34 x the other side's "
            "blocks at k = 64) and hold 64 ratings each on average (64 x the blocks), the most rated first and "
            "only as many as keep their parts within 1/8 of the other side's table, Cholesky only (off under "
            "CG); off: none",
            [](C& c, const std::string& v) {
              if (v == "auto") {
                c.heavy_rows = -1;
              } else if (v == "off") {
                c.heavy_rows = 0;
              } else {
                const auto n = OptionTable<C>::parse_as<std::int64_t>("--heavy-rows", {v});
                if (n < 1) throw UsageError{"--heavy-rows must be auto, off or a number of ratings >= 1, got " + v};
                c.heavy_rows = n;
              }
            },
            [](const C& c) {
              return c.heavy_rows < 0    ? nlohmann::json("auto")
                     : c.heavy_rows == 0 ? nlohmann::json("off")
                                         : nlohmann::json(c.heavy_rows);
            })
        .model("heavy_rows", nullptr, [](const C& c) { return c.heavy_rows >= 0; })
        .add("Model", "cg-steps", &C::cg_steps, "conjugate-gradient steps per row (--solver cg)")
        .model("cg_steps")
        // Only CG reads half precision; a Cholesky run's options do not mention it.
        .add("Model", "cg-precision", &C::cg_precision,
             "half: CG reads the fixed side's factors from a half-precision copy (half the memory traffic; "
             "the solve stays in float); float: as stored (--solver cg)")
        .model("cg_precision", nullptr, [](const C& c) { return c.solver == Solver::cg; })
        .add("Model", "no-bias", &C::no_bias,
             "drop user and item biases (the global mean stays); implicit mode never has biases")
        .model("bias", [](const C& c) { return nlohmann::json(!c.no_bias); })
        .add("Model", "seed", &C::seed, "seed of the initial factors")
        .model("seed");
    auto validating = [](const C& c) { return c.validation_fraction > 0; };
    t.add("Validation", "validation-fraction", &C::validation_fraction,
          "share of the training ratings held out of the solves (a seeded hash of user and item: the same for any "
          "number of ranks); their RMSE is printed per iteration")
        .model("validation_fraction", nullptr, validating)
        .add("Validation", "validation-seed", &C::validation_seed, "seed of the validation split")
        .model("validation_seed", nullptr, validating)
        .add("Validation", "early-stopping", &C::early_stopping,
             "stop after N iterations without a lower validation RMSE and publish the best iteration's model (0: "
             "off; needs --validation-fraction)")
        .model("early_stopping", nullptr, [](const C& c) { return c.early_stopping > 0; })
        .add("Validation", "tune", &C::tune,
             "grid search in one job, e.g. \"lambda=0.05,0.1;lambda-exponent=0,0.5,1;factors=16,64\": every "
             "combination on the validation split (--validation-fraction, default then 0.1) with early stopping "
             "(--early-stopping, default then 3); the lowest validation RMSE wins and is trained again on every "
             "training rating for its best iteration count, and that model is published")
        .add("Validation", "tune-results", &C::tune_results, "write --tune's table here as JSON");
    // Recorded only for implicit runs: an explicit run's hyper-parameters
    // are as they were before implicit mode existed.
    auto implicit_only = [](const C& c) { return c.implicit; };
    t.add("Implicit feedback", "implicit", &C::implicit,
          "train on implicit feedback (clicks, plays, counts; Hu et al. 2008): every cell is a preference, 1 where "
          "observed with confidence 1 + alpha f(value), 0 elsewhere with weight --unobserved-weight; on by itself "
          "for a dataset of events (dals-partition --implicit)")
        .model(
            "feedback", [](const C&) { return nlohmann::json("implicit"); }, implicit_only)
        .add("Implicit feedback", "alpha", &C::alpha, "confidence slope: c = 1 + alpha f(value) (> 0)")
        .model("alpha", nullptr, implicit_only)
        .add("Implicit feedback", "confidence", &C::confidence,
             "f: linear (f(r) = r) or log (f(r) = log(1 + r/epsilon))")
        .model("confidence", nullptr, implicit_only)
        .add("Implicit feedback", "epsilon", &C::epsilon, "epsilon of --confidence log (> 0)")
        .model("epsilon", nullptr, [](const C& c) { return c.implicit && c.confidence == Confidence::log; })
        .add("Implicit feedback", "unobserved-weight", &C::unobserved_weight,
             "w0 in (0, 1]: the weight of every unobserved cell (Rendle et al. 2022; 1 = Hu et al.)")
        .model("unobserved_weight", nullptr, implicit_only)
        .add("Implicit feedback", "eval-k", &C::eval_k,
             "cut-off K of the ranking metrics on the test split (precision, recall, NDCG at K)")
        .add("Implicit feedback", "eval-every", &C::eval_every,
             "iterations between ranking evaluations on the test split (0: after the last iteration only)");
    t.add("Checkpoints", "checkpoint-dir", &C::checkpoint_dir,
          "write checkpoints here (CKPT/iter-000012/...); also enables stopping on SIGTERM/SIGUSR1 with a "
          "checkpoint (exit code 3)")
        .add("Checkpoints", "checkpoint-every", &C::checkpoint_every,
             "iterations between checkpoints; one is always written after the last iteration (0: only then, and "
             "when stopped)")
        .add("Checkpoints", "keep-checkpoints", &C::keep_checkpoints,
             "complete checkpoints to keep; older ones are deleted once a newer one is complete")
        .add("Checkpoints", "resume", &C::resume,
             "auto: continue from the newest usable checkpoint in --checkpoint-dir (none: start fresh); PATH: from "
             "that checkpoint or model directory")
        .add("Checkpoints", "resume-override", &C::resume_override,
             "resume even if lambda, regularization, bias, solver or seed changed (recorded in state.json); k and "
             "the dataset can never change")
        .add("Checkpoints", "time-limit", &C::time_limit,
             "seconds this run may take: checkpoint and exit 3 before then, judged from the measured "
             "half-iteration and checkpoint times (0: none; SLURM_JOB_END_TIME also counts)");
    // The file's contents are merged into the options, which are hashed: its
    // name may differ between nodes.
    t.add("General", "config", &C::config_file, "INI file with the same options (name = value); the command line wins",
          local)
        .config_file("config");
    return t;
  }();
  return table;
}

std::string apply_feedback_defaults(TrainConfig& config, bool dataset_holds_events) {
  std::string said;
  if (dataset_holds_events && !config.implicit) {
    config.implicit = true;
    said = config.data + " holds events (implicit feedback): training in implicit mode";
  }
  if (!config.implicit) return said;
  if (!config.lambda_given) config.lambda = kImplicitLambda;
  if (!config.regularization_given) config.regularization = kImplicitRegularization;
  config.no_bias = true;
  return said;
}

ParseOutcome parse_train_config(int argc, const char* const* argv, TrainConfig& config, std::string& out) {
  if (train_options().parse(argc, argv, config, out) == ParseOutcome::help_shown) return ParseOutcome::help_shown;
  try {
    config.resolve_regularization();
    config.validate();
  } catch (const Error& e) {
    throw UsageError{e.what()};
  }
  return ParseOutcome::run;
}

}  // namespace dals
