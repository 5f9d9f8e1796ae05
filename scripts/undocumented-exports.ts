/**
 * The public API without a doc comment: every export of the package entries (`.`, `noble`, `bleno`,
 * `web-bluetooth`, `react-native`, `node`) whose declaration carries no JSDoc, by entry.
 *
 * Usage: `npx tsx scripts/undocumented-exports.ts [--list]` (counts; `--list` names them). Read-only.
 */
import ts from 'typescript';

const ENTRIES: Readonly<Record<string, string>> = {
  '.': 'src/index.ts',
  noble: 'src/adapters/noble/index.ts',
  bleno: 'src/adapters/bleno/index.ts',
  'web-bluetooth': 'src/adapters/web-bluetooth/index.ts',
  'react-native': 'src/adapters/react-native/index.ts',
  node: 'src/node/index.ts',
};

function documented(declaration: ts.Declaration): boolean {
  // a variable's doc comment sits on its statement
  const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
  return ts.getJSDocCommentsAndTags(node).length > 0;
}

function undocumentedExports(program: ts.Program, entry: string): string[] {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const module = source && checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`cannot read ${entry}`);
  const missing: string[] = [];
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const declarations = symbol.getDeclarations() ?? [];
    // namespace re-exports (`export * as noise`) are documented by their module
    if (declarations.some((d) => ts.isSourceFile(d))) continue;
    if (!declarations.some(documented)) missing.push(exported.getName());
  }
  return missing.sort();
}

const config = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
if (!config) throw new Error('cannot read tsconfig.json');
const program = ts.createProgram({ rootNames: Object.values(ENTRIES), options: config.options });
const list = process.argv.includes('--list');
let total = 0;
let exports = 0;
for (const [name, entry] of Object.entries(ENTRIES)) {
  const missing = undocumentedExports(program, entry);
  const source = program.getSourceFile(entry);
  const module = source && program.getTypeChecker().getSymbolAtLocation(source);
  const count = module ? program.getTypeChecker().getExportsOfModule(module).length : 0;
  total += missing.length;
  exports += count;
  console.log(
    `${name.padEnd(14)} ${String(missing.length).padStart(4)} of ${count} exports without a doc comment${list && missing.length ? `: ${missing.join(', ')}` : ''}`,
  );
}
console.log(`${'all entries'.padEnd(14)} ${String(total).padStart(4)} of ${exports}`);
