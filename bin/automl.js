#!/usr/bin/env node
// The bundle is built by `npm install` (the prepare script) or `npm run build`.
require("../dist/kernel/automl.js");
