#!/usr/bin/env bash
# Lays out an empty built-in plugin package: scripts/new-package.sh KIND NAME ["description"]
set -euo pipefail
kind=$1 name=$2 desc=${3:-"Pipeline $kind plugin $name"}
dir="plugins/$kind-$name"
mkdir -p "$dir/src" "$dir/test"
cat > "$dir/package.json" <<JSON
{
  "name": "@pipeline/$kind-$name",
  "version": "0.1.0",
  "description": "$desc",
  "type": "module",
  "main": "dist/src/index.js",
  "types": "dist/src/index.d.ts",
  "exports": { ".": { "types": "./dist/src/index.d.ts", "default": "./dist/src/index.js" } },
  "files": ["dist/src", "README.md"],
  "pipeline": { "plugins": { "$kind": ["$name"] } },
  "peerDependencies": { "@pipeline/core": "^0.1.0" }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": ".", "outDir": "dist" },
  "include": ["src/**/*.ts", "test/**/*.ts"],
  "references": [{ "path": "../../core" }]
}
JSON
