#pragma once
/// @file staged_dir.hpp
/// @brief The one way an output directory reaches the disk: built in a
/// sibling DEST.tmp, published by one rename.
///
/// Every directory dals writes (a dataset, a model, a checkpoint) is built
/// under DEST.tmp and renamed to DEST only when it is complete, so a reader
/// sees the old output or the new one, never half of one, and a failed run
/// leaves DEST as it was. StagedDir holds the rules of that protocol, once:
///
///  - **The path.** Trailing slashes are dropped and "." and ".." components
///    resolved lexically, so "model/", "./model" and "x/../model" all name
///    "model" and stage in its sibling "model.tmp", never inside DEST. A path
///    that names no directory one could create and replace ("", "/", ".",
///    "..", "a/..") is an error.
///  - **--force.** Without it an existing DEST is refused ("already exists
///    (pass --force to replace it)"). With it DEST is replaced only if it is
///    an empty directory or recognisably the tool's own kind of output
///    (OutputKind: a dataset for the dataset writers, a model for dals-train);
///    anything else is refused, naming the path and what it is, so --force
///    never deletes a home directory or another tool's output.
///  - **Links.** A DEST that is a symbolic link (dangling or not) is refused:
///    the rename would replace the link, not what it points to.
///  - **Early.** check() needs the parent to be a writable directory (or,
///    if it does not exist yet, the nearest one that does: create() makes
///    the missing ones, as mkdir -p would), so a bad --output fails at
///    startup, not after the work.
///  - **Cleanup.** create() makes DEST.tmp afresh (a stale one of a killed
///    run is removed first); until publish() succeeds, discard() or the
///    destructor removes it again.
///  - **Publish.** publish() checks DEST once more (it may have changed while
///    the tool worked), fsyncs everything under DEST.tmp and renames it into
///    place with publish_directory (fs_util.hpp), which replaces an old DEST
///    only then.
///
/// StagedDir is single-process. In an MPI tool every rank may construct one
/// (construction touches nothing and never throws for a bad path) and use
/// staging() to write its share; rank 0 alone calls check(), create() and
/// publish(), inside run_collectively, so that every rank fails together.
/// Only the object that created DEST.tmp removes it.

#include <functional>
#include <string>

namespace dals {

/// What a tool writes, so that --force replaces only that.
struct OutputKind {
  /// For messages: "dals dataset", "dals model".
  std::string name;
  /// Given an existing, non-empty directory: "" if it is this kind of
  /// output, otherwise what it lacks ("it has no manifest.json"), for the
  /// refusal. Must not throw.
  std::function<std::string(const std::string& dir)> problem;
};

/// An output recognised by DIR/`manifest`, a JSON object (at most 1 MiB)
/// whose "format" is `format` (dals-recommend's, dals-export's outputs).
OutputKind output_kind_by_manifest(const std::string& name, const std::string& manifest, const std::string& format);

/// `path` as an output directory: trailing slashes dropped, "." and ".."
/// resolved lexically ("./a/../model/" is "model"). Error if it names no
/// directory that could be created ("", "/", ".", "..", "a/..").
std::string normalize_output_path(const std::string& path);

class StagedDir {
 public:
  /// Names the output; touches nothing and throws nothing for a bad path
  /// (check() reports it), so every rank can make one outside
  /// run_collectively. `force`: the tool's --force.
  StagedDir(const std::string& dest, bool force, OutputKind kind);
  /// discard(): DEST.tmp goes unless it was published.
  ~StagedDir();
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  /// DEST, normalised (the path as given if it cannot be).
  const std::string& dest() const { return dest_; }
  /// DEST.tmp, DEST's sibling.
  const std::string& staging() const { return staging_; }

  /// Error unless DEST may be written: a valid path whose parent (or its
  /// nearest existing ancestor) is a writable directory, and DEST absent, or
  /// with --force an empty directory or the right kind of output. Touches
  /// nothing.
  void check() const;

  /// check(), then DEST's missing parents and DEST.tmp created, the latter
  /// empty (a stale one is removed first). From here on this object removes
  /// DEST.tmp again unless it is published (the parents stay).
  void create();

  /// check() again, fsync of every file and directory under DEST.tmp, and
  /// the rename into place (an existing DEST, allowed by --force, is
  /// replaced only now). Error if any step fails; DEST is then unchanged.
  void publish();

  /// Removes DEST.tmp if this object created it and did not publish it.
  void discard() noexcept;

  bool published() const { return published_; }

 private:
  std::string dest_, staging_, path_error_;
  bool force_;
  OutputKind kind_;
  bool created_ = false, published_ = false;
};

}  // namespace dals
