import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  consistencyProof, EMPTY_ROOT, foldRight, inclusionProof, leafHash, nodeHash, perfectNodes, rangeRoot,
  verifyConsistency, verifyInclusion,
} from '../../../src/audit/merkle/tree.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const toHex = (b: Buffer[]) => b.map((x) => x.toString('hex'));

// Certificate Transparency's reference vectors (RFC 6962 test data of the
// CT implementations): eight leaves, the root of every prefix, and some
// published audit paths and consistency proofs.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hex);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const PATHS: [number, number, string[]][] = [
  [0, 1, []],
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
const PROOFS: [number, number, string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
const hashes = LEAVES.map(leafHash);

test('the empty tree hashes to SHA-256 of nothing', () => {
  assert.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.deepEqual(rangeRoot([]), EMPTY_ROOT);
});

test('the root of every prefix of the reference leaves matches the published root', () => {
  for (let n = 1; n <= 8; n++) assert.equal(rangeRoot(hashes.slice(0, n)).toString('hex'), ROOTS[n - 1], `n=${n}`);
});

test('audit paths match the published ones and verify against the published roots', () => {
  for (const [i, n, path] of PATHS) {
    assert.deepEqual(toHex(inclusionProof(hashes, i, n)), path, `i=${i} n=${n}`);
    assert.equal(verifyInclusion(i, n, hashes[i]!, path.map(hex), hex(ROOTS[n - 1]!)), true);
  }
});

test('consistency proofs match the published ones and verify against the published roots', () => {
  for (const [m, n, proof] of PROOFS) {
    assert.deepEqual(toHex(consistencyProof(hashes, m, n)), proof, `m=${m} n=${n}`);
    assert.equal(verifyConsistency(m, n, hex(ROOTS[m - 1]!), hex(ROOTS[n - 1]!), proof.map(hex)), true);
  }
});

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
const flipped = (b: Buffer, at: number) => { const c = Buffer.from(b); c[at % c.length]! ^= 0x01; return c; };

test('every inclusion proof of every leaf of every tree up to 64 leaves verifies; any altered byte fails', () => {
  const all = leavesOf(64);
  for (let n = 1; n <= 64; n++) {
    const root = rangeRoot(all, 0, n);
    for (let i = 0; i < n; i++) {
      const path = inclusionProof(all, i, n);
      assert.equal(verifyInclusion(i, n, all[i]!, path, root), true, `i=${i} n=${n}`);
      assert.equal(verifyInclusion(i, n, flipped(all[i]!, i), path, root), false);
      assert.equal(verifyInclusion(i, n, all[i]!, path, flipped(root, n)), false);
      path.forEach((_, j) => {
        const bad = path.map((p, k) => (k === j ? flipped(p, i + j) : p));
        assert.equal(verifyInclusion(i, n, all[i]!, bad, root), false, `i=${i} n=${n} j=${j}`);
      });
      if (n > 1) assert.equal(verifyInclusion((i + 1) % n, n, all[i]!, path, root), false);
    }
  }
});

test('every consistency proof for m <= n <= 64 verifies; any altered byte, swapped size or short proof fails', () => {
  const all = leavesOf(64);
  const roots = Array.from({ length: 65 }, (_, n) => rangeRoot(all, 0, n));
  for (let n = 0; n <= 64; n++) {
    for (let m = 0; m <= n; m++) {
      const proof = consistencyProof(all, m, n);
      assert.equal(verifyConsistency(m, n, roots[m]!, roots[n]!, proof), true, `m=${m} n=${n}`);
      if (m === 0) continue;
      assert.equal(verifyConsistency(m, n, flipped(roots[m]!, n), roots[n]!, proof), false);
      if (m < n) {
        assert.equal(verifyConsistency(m, n, roots[m]!, flipped(roots[n]!, m), proof), false);
        proof.forEach((_, j) => {
          const bad = proof.map((p, k) => (k === j ? flipped(p, m + j) : p));
          assert.equal(verifyConsistency(m, n, roots[m]!, roots[n]!, bad), false, `m=${m} n=${n} j=${j}`);
        });
        assert.equal(verifyConsistency(m, n, roots[m]!, roots[n]!, proof.slice(1)), false);
        assert.equal(verifyConsistency(m, n, roots[m]!, roots[n - 1]!, proof), false);
      }
    }
  }
});

test('MTH of any aligned range is the right fold of its perfect subtrees (what the store keeps)', () => {
  const all = leavesOf(64);
  const perfect = (level: number, index: number) => rangeRoot(all, index * 2 ** level, (index + 1) * 2 ** level);
  for (let n = 1; n <= 64; n++) {
    assert.deepEqual(foldRight(perfectNodes(0, n).map((p) => perfect(p.level, p.index))), rangeRoot(all, 0, n));
  }
  assert.deepEqual(foldRight(perfectNodes(32, 45).map((p) => perfect(p.level, p.index))), rangeRoot(all, 32, 45));
  assert.deepEqual(nodeHash(all[0]!, all[1]!), rangeRoot(all, 0, 2));
});

test('out-of-range indices are refused, not answered', () => {
  assert.throws(() => inclusionProof(leavesOf(3), 3), RangeError);
  assert.throws(() => consistencyProof(leavesOf(3), 4, 3), RangeError);
  assert.equal(verifyInclusion(3, 3, leavesOf(1)[0]!, [], EMPTY_ROOT), false);
});
