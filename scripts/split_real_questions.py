"""Split the real-question set once into dev and holdout, stratified by topic and source kind."""
import hashlib, json, collections
rows = [json.loads(l) for l in open('../shared/eval/real_questions/questions.jsonl')]
by = collections.defaultdict(list)
for r in rows:
    by[r['topic']].append(r)
dev, hold = [], []
# within a topic: order by source kind, then by a hash of the id; every 5th pair -> 2 of 5 to holdout
pos = 0
for topic in sorted(by):
    items = sorted(by[topic], key=lambda r: (r['source_kind'], hashlib.sha1(r['id'].encode()).hexdigest()))
    for r in items:
        (hold if pos % 5 in (1, 3) else dev).append(r['id'])
        pos += 1
print(len(dev), len(hold))
json.dump({"method": "per topic, ordered by source kind then sha1(id); positions 1 and 3 of every 5 (counted across topics) go to holdout",
           "dev": sorted(dev), "holdout": sorted(hold)}, open('tests/data/real_questions/split.json', 'w'), indent=1)
h = set(hold)
for key in ('expect', 'source_kind'):
    print(key, collections.Counter((r[key], r['id'] in h) for r in rows))
