/**
 * Loaded before every test (.mocharc, package.json's test scripts): the data finder searches
 * only what is on this machine (the workspace's files and the bundled catalog), never the
 * public Hugging Face Hub or Kaggle, so a test's result cannot depend on the internet. Tests of
 * the network sources set HF_ENDPOINT / KAGGLE_API_ENDPOINT to servers on 127.0.0.1 and name
 * the sources they use; child processes (the CLI, code-server, the kernel) inherit this.
 * Likewise no language model: the agents decide by their rules unless a test points them at
 * its OpenAI-compatible server on 127.0.0.1 (test/support/test-llm-server.ts).
 */
process.env["AUTOML_DATASET_SOURCES"] ??= "workspace,catalog";
delete process.env["HF_TOKEN"];
delete process.env["KAGGLE_USERNAME"];
delete process.env["KAGGLE_KEY"];
delete process.env["AUTOML_LLM_API_KEY"];
delete process.env["AUTOML_LLM_BASE_URL"];
delete process.env["AUTOML_LLM_MODEL"];
