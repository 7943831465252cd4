import assert from "node:assert/strict";
import { sha256Bytes, sha256File } from "../../../lib/io/sha256.ts";

async function webCryptoHex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("sha256Bytes() matches the FIPS 180-2 test vectors", () => {
  assert.equal(
    sha256Bytes(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    sha256Bytes("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    sha256Bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("sha256File() streams a file across chunk boundaries and matches WebCrypto", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) * 2 + 12345]) {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) {
        crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
      }
      const path = `${dir}/f-${size}.bin`;
      await Deno.writeFile(path, bytes);
      const expected = await webCryptoHex(bytes);
      assert.equal(await sha256File(path), expected, `size ${size}`);
      assert.equal(sha256Bytes(bytes), expected);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sha256File() rejects a missing file", async () => {
  await assert.rejects(() => sha256File("/nonexistent/vatt/file.bin"), Deno.errors.NotFound);
});
