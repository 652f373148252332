#!/usr/bin/env bash
# Full-text search benchmark (release build), printing figures and ratios:
#  1. indexing: the versioned corpus of ../shared/bench/corpus.py (round 0) and /usr/share/doc,
#     imported and then indexed by a mount's indexer: documents/s, text extracted, index bytes
#     against the content; beside it, the same plain texts put into an SQLite FTS5 table by
#     Python alone (the floor: no extraction, no permissions, no journal);
#  2. query latency at DOCS documents (default 100,000 generated ones): each query's answer
#     through the mount (getxattr of /.search/QUERY, as `nexusfs search` asks), median and p95,
#     against `grep -rlw` over the same files on the local disk (what finding them costs without
#     an index), and one `nexusfs search` command end to end.
#   bench/search.sh [DOCS]
source "$(dirname "$0")/common.sh"
docs=${1:-100000}
corpus_py=${CORPUS_PY:-../shared/bench/corpus.py}
work=/var/tmp/nexusfs-bench-search-$$
mkdir -p "$work/mnt"
cleanup() { drill_unmount "$work/mnt"; rm -rf "$work"; }
trap cleanup EXIT
export NEXUSFS_PASSWORD=bench NEXUSFS_STATE_DIR=$work/state

# Waits until the mount's indexer has nothing queued; prints the seconds it took.
wait_indexed() {
    python3 - "$1" <<'PY'
import json, os, sys, time
start = time.time()
folder = os.path.join(sys.argv[1], ".search", "zzzznothing")
while True:
    if json.loads(os.getxattr(folder, "user.nexus.search"))["pending"] == 0: break
    time.sleep(0.2)
print(f"{time.time() - start:.2f}")
PY
}
stored() { "$nexusfs" stats "$work/repo" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["storedBytes"])'; }
# The bytes the catalog's search tables take (SQLite's dbstat), and the text they hold.
index_bytes() {
    sqlite3 "$NEXUSFS_STATE_DIR"/*/catalog.db "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE 'search_%';
                        SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'search_text';
                        SELECT count(*), coalesce(sum(length(CAST(body AS BLOB))), 0) FROM search_text WHERE body != '';"
}

echo "== 1. indexing the corpus (round 0) and /usr/share/doc"
python3 "$corpus_py" init "$work/src/corpus" >/dev/null
cp -r /usr/share/doc "$work/src/usr-share-doc"
content=$(du -sb "$work/src" | cut -f1)
files=$(find "$work/src" -type f | wc -l)
"$nexusfs" init "$work/repo" >/dev/null
"$nexusfs" import "$work/repo" "$work/src" >/dev/null
before=$(stored)
"$nexusfs" mount "$work/repo" "$work/mnt"
seconds=$(wait_indexed "$work/mnt")
"$nexusfs" umount "$work/mnt"
after=$(stored)
python3 -c "print(f'repository: {$before / 1e6:.1f} MB stored after the import, {$after / 1e6:.1f} MB after indexing (+{($after - $before) / 1e6:.1f} MB: the text, journaled and in the checkpoint, compressed and encrypted)')"
read -r all text_table text_docs text_bytes <<< "$(index_bytes | tr '|\n' '  ')"
python3 - "$files" "$content" "$seconds" "$all" "$text_table" "$text_docs" "$text_bytes" <<'PY'
import sys
files, content, seconds, index, table, docs, text = (float(x) for x in sys.argv[1:])
print(f"{int(files)} files, {content / 1e6:.1f} MB: indexed in {seconds:.1f} s = {files / seconds:.0f} documents/s, "
      f"{content / 1e6 / seconds:.1f} MB/s of content")
print(f"text extracted from {int(docs)} documents: {text / 1e6:.1f} MB ({text / content * 100:.0f} % of the content; "
      "the rest is gzip'd changelogs, images and binaries, typed by libmagic and not read)")
print(f"search tables {index / 1e6:.1f} MB = {index / content:.2f}x the content, {index / text:.2f}x the text "
      f"(search_text {table / 1e6:.1f} MB, the FTS5 index {(index - table) / 1e6:.1f} MB)")
PY
python3 - "$work/src" "$work/peer.sqlite" <<'PY'
import os, sqlite3, sys, time
root, path = sys.argv[1:]
db = sqlite3.connect(path)
db.execute("CREATE VIRTUAL TABLE t USING fts5(name, body, tokenize='unicode61 remove_diacritics 2')")
start, n = time.time(), 0
for folder, _, names in os.walk(root):
    for name in names:
        path_ = os.path.join(folder, name)
        if os.path.islink(path_) or not os.path.isfile(path_): continue
        with open(path_, "rb") as f: data = f.read(4 << 20)
        if b"\0" in data[:8192]: continue
        db.execute("INSERT INTO t VALUES (?, ?)", (name, data.decode("utf-8", "replace"))); n += 1
db.commit()
took = time.time() - start
print(f"peer (Python + SQLite FTS5, plain text files only, no extraction): {n} documents in {took:.1f} s = {n / took:.0f} documents/s, "
      f"{os.path.getsize(path) / 1e6:.1f} MB")
PY

echo "== 2. query latency at $docs documents"
rm -rf "$work/src" "$work/repo" "$work/state" "$work/peer.sqlite"
python3 - "$work/big" "$docs" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(12)
syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "po", "da", "fe", "gu", "hi", "jo"]
vocabulary = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(60000)})
rng.shuffle(vocabulary)
weights = [1 / (i + 1) for i in range(len(vocabulary))]
for i in range(count):
    folder = os.path.join(root, f"d{i // 1000:03d}")
    os.makedirs(folder, exist_ok=True)
    words = rng.choices(vocabulary, weights, k=rng.randint(80, 250))
    if i % 1000 == 7: words += ["zebrafinch", "ledger"]
    path = os.path.join(folder, f"doc{i:06d}.txt")
    with open(path, "w") as f: f.write(" ".join(words) + "\n")
    if i % 100 == 3: os.setxattr(path, "user.xdg.tags", b"contract, acme")
with open(os.path.join(root, "..", "words"), "w") as f:
    # a common word, a middling one, a rare one (by the Zipf rank)
    f.write(" ".join([vocabulary[0], vocabulary[300], vocabulary[5000]]) + "\n")
PY
read -r common middling rare < "$work/words"
content=$(du -sb "$work/big" | cut -f1)
"$nexusfs" init "$work/repo" >/dev/null
start=$(now)
"$nexusfs" import "$work/repo" "$work/big" >/dev/null
imported=$(now)
before=$(stored)
"$nexusfs" mount "$work/repo" "$work/mnt"
seconds=$(wait_indexed "$work/mnt")
echo "$docs documents ($(python3 -c "print(f'{$content / 1e6:.0f}')") MB) imported in $(python3 -c "print(f'{$imported - $start:.1f}')") s, indexed in $seconds s = $(python3 -c "print(f'{$docs / $seconds:.0f}')") documents/s"
python3 - "$work/mnt" "$work/big" "$nexusfs" "$common" "$middling" "$rare" <<'PY'
import json, os, statistics, subprocess, sys, time
mnt, plain, nexusfs, common, middling, rare = sys.argv[1:]
queries = [
    ("rare word", rare, rare), ("middling word", middling, middling), ("common word", common, common),
    ("two words", f"{middling} {rare}", None), ('phrase', '"zebrafinch ledger"', "zebrafinch"),
    ("prefix", "zebra*", None), ("tag", "tag:contract", None), ("word and tag", f"{middling} tag:contract", None),
]
def timed(fn, n):
    times = []
    for _ in range(n):
        start = time.perf_counter(); fn(); times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1 if len(times) >= 20 else -1]
print(f"{'query':<14} {'hits':>5} {'mount p50':>10} {'p95':>8} {'grep -rlw':>10} {'speedup':>8}")
for label, query, grep_word in queries:
    folder = os.path.join(mnt, ".search", query + " limit:50")
    answer = json.loads(os.getxattr(folder, "user.nexus.search"))
    # The daemon keeps an answer while nothing changes (getxattr asks for the size, then the
    # value): each timed call asks a new query, with an exclusion no document matches.
    count = iter(range(1000000))
    p50, p95 = timed(lambda: os.getxattr(os.path.join(mnt, ".search", f"{query} -qqq{next(count)} limit:50"),
                                         "user.nexus.search"), 20)
    if grep_word:
        subprocess.run(["grep", "-rlw", grep_word, plain], stdout=subprocess.DEVNULL)   # warm the page cache
        g50, _ = timed(lambda: subprocess.run(["grep", "-rlw", grep_word, plain], stdout=subprocess.DEVNULL), 3)
        print(f"{label:<14} {len(answer['hits']):>5} {p50:>8.2f}ms {p95:>6.2f}ms {g50:>8.1f}ms {g50 / p50:>7.0f}x")
    else:
        print(f"{label:<14} {len(answer['hits']):>5} {p50:>8.2f}ms {p95:>6.2f}ms {'-':>10} {'-':>8}")
start = time.perf_counter()
subprocess.run([nexusfs, "search", mnt, rare, "--limit", "20"], stdout=subprocess.DEVNULL, check=True)
print(f"`nexusfs search MNT {rare}` end to end (process start included): {(time.perf_counter() - start) * 1e3:.0f} ms")
PY
"$nexusfs" umount "$work/mnt"
after=$(stored)
python3 -c "print(f'repository: {$before / 1e6:.1f} MB stored after the import, {$after / 1e6:.1f} MB after indexing')"
read -r all text_table text_docs text_bytes <<< "$(index_bytes | tr '|\n' '  ')"
python3 -c "print(f'search tables at $docs documents: {$all / 1e6:.1f} MB = {$all / $content:.2f}x the content ({$content / 1e6:.0f} MB)')"
