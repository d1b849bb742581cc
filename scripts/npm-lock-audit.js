// The offline part of `make audit` for an npm tree (docs/supply-chain.md): every package of
// package-lock.json (the production tree with AUDIT_SCOPE=production) comes from the npm
// registry (AUDIT_REGISTRY) with a sha512 integrity (a bundled package, inside the tarball of
// the package that bundles it, with that package's), runs no install script, and has a licence
// in AUDIT_LICENSES or an exception in AUDIT_EXCEPTIONS ("name=licence ..."); an allowed
// licence or exception that nothing uses fails too. Run in the directory of the lock file.
const fs = require("fs");
const scope = process.env.AUDIT_SCOPE;
const allow = new Set((process.env.AUDIT_LICENSES || "").split(/\s+/).filter(Boolean));
const except = new Map((process.env.AUDIT_EXCEPTIONS || "").split(/\s+/).filter(Boolean)
  .map((e) => [e.slice(0, e.lastIndexOf("=")), e.slice(e.lastIndexOf("=") + 1)]));
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
if (!process.env.AUDIT_REGISTRY) {
  console.error("npm config get registry gave nothing");
  process.exit(1);
}
if (!(lock.lockfileVersion >= 2)) {
  console.error("package-lock.json: lockfileVersion " + lock.lockfileVersion + " has no packages map");
  process.exit(1);
}
const problems = [], licences = {}, usedLicences = new Set(), usedExceptions = new Set();
let count = 0;
for (const [path, p] of Object.entries(lock.packages)) {
  if (path === "" || (scope === "production" && p.dev)) continue;
  const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
  const id = name + "@" + p.version;
  count++;
  if (p.link) {
    problems.push(id + ": a link to " + p.resolved + ", not a registry package");
  } else {
    if (p.resolved && !p.resolved.startsWith(process.env.AUDIT_REGISTRY))
      problems.push(id + ": resolved from " + p.resolved + ", not the npm registry");
    if (p.inBundle) {
      // Shipped inside the tarball of the package that bundles it (bundleDependencies), so
      // covered by that package's integrity: the nearest enclosing package not itself bundled.
      let parent = path;
      do parent = parent.slice(0, parent.lastIndexOf("/node_modules/"));
      while (parent && lock.packages[parent] && lock.packages[parent].inBundle);
      const outer = lock.packages[parent];
      if (!parent || !outer || !/^sha512-/.test(outer.integrity || ""))
        problems.push(id + ": bundled, but no enclosing package with a sha512 integrity covers it");
    } else if (!/^sha512-/.test(p.integrity || "")) problems.push(id + ": no sha512 integrity in the lock file");
  }
  if (p.hasInstallScript) problems.push(id + ": runs an install script");
  const lic = typeof p.license === "string" ? p.license : JSON.stringify(p.license);
  licences[lic] = (licences[lic] || 0) + 1;
  const alternatives = lic.replace(/^\(|\)$/g, "").split(" OR ").map((a) => a.trim());
  const allowed = alternatives.find((a) => allow.has(a));
  if (except.get(name) === lic) usedExceptions.add(name);
  else if (allowed) usedLicences.add(allowed);
  else problems.push(id + ": licence " + lic + " is not in the allow-list");
}
for (const l of allow) if (!usedLicences.has(l)) problems.push("allowed licence " + l + " is used by no package: remove it");
for (const n of except.keys()) if (!usedExceptions.has(n)) problems.push("exception for " + n + " matches no package: remove it");
const summary = Object.entries(licences).sort((a, b) => b[1] - a[1]).map(([l, n]) => l + " " + n).join(", ");
console.log(process.env.AUDIT_NAME + ": " + count + " packages (" + scope + " tree); licences: " + summary);
for (const m of problems) console.error("  " + m);
if (problems.length) process.exit(1);
console.log(process.env.AUDIT_NAME + ": all from the npm registry with sha512 integrity, no install scripts, licences allowed");
