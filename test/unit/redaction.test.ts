/** Personal data and secrets are taken out of what goes to a model and to the audit log; ordinary data stays. */
import * as assert from "node:assert/strict";
import { redact, redactDeep } from "../../kernel/logging/redaction";

describe("redaction of personal data and secrets", () => {
  it("replaces e-mail addresses, phone numbers, card numbers and keys with what they were", () => {
    const { text, counts } = redact(
      "customer_email ada.lovelace@example.co.uk called +44 20 7946 0958 about card 4111 1111 1111 1111; key hf_abcdefghijklmnopqrstuvwxyz012345 and sk-proj-ABCDEFGHIJKLMNOPQRSTUV",
    );
    assert.equal(text, "customer_email [email] called [phone] about card [card]; key [secret] and [secret]");
    assert.deepEqual(counts, { secret: 2, email: 1, card: 1, phone: 1 });
  });

  it("takes credentials out of URLs and assignments, AWS keys, JWTs and long random strings", () => {
    assert.equal(redact("postgres://admin:hunter2@db.internal:5432/sales").text, "[secret]db.internal:5432/sales");
    assert.equal(redact("password=s3cr3t! and api_key: abcd1234").text, "[secret] and [secret]");
    assert.equal(redact("AKIAIOSFODNN7EXAMPLE").text, "[secret]");
    assert.equal(redact("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U").text, "[secret]");
    assert.equal(redact("token 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08").text, "token [secret]");
  });

  it("leaves ordinary data alone: numbers, dates, ids that fail the card check, column names, sentences", () => {
    for (const plain of [
      "predict the median house value from 506 rows",
      "2024-03-01 12:30:00",
      "1234 5678 9012 3456", // not a card: the Luhn sum fails
      "Miles_per_Gallon, Body Mass (g), customer_id",
      "price 1,250,000.50 and delay -19",
      "a_very_long_column_name_without_digits_in_it_at_all",
    ]) {
      assert.equal(redact(plain).text, plain, plain);
    }
  });

  it("redacts every string of a structure, keeping its keys", () => {
    assert.deepEqual(redactDeep({ sample: [{ email: "bob@example.com", n: 3 }], note: "call 555-123-4567" }), {
      sample: [{ email: "[email]", n: 3 }],
      note: "call [phone]",
    });
  });
});
