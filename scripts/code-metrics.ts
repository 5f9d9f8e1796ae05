/**
 * Code metrics for the maintainability work of issue 11, measured with the TypeScript compiler API:
 *
 * - the N longest functions (declarations, methods, accessors, constructors, arrow functions and function
 *   expressions) with `file:line` and their length in lines;
 * - the number of type assertions (`x as T` and `<T>x`, not counting `as const`), of the `any` type, and of
 *   non-null assertions (`x!`), the latter split into those on an indexed access (`a[i]!`) and the rest.
 *
 * Usage: `npx tsx scripts/code-metrics.ts [--top N] [--dir src] [--json]`. Read-only; prints to stdout.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One function-like node and where it is. */
export interface FunctionLength {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly lines: number;
}

/** Counts of the escape hatches of the type system. */
export interface CastCounts {
  /** `x as T` and `<T>x`, excluding `as const`. */
  readonly casts: number;
  /** `as unknown as T` (a subset of `casts`, counted once per chain). */
  readonly doubleCasts: number;
  /** The `any` keyword in a type position. */
  readonly any: number;
  /** Every non-null assertion `x!`. */
  readonly nonNull: number;
  /** Non-null assertions on an element access `a[i]!` (a subset of `nonNull`). */
  readonly nonNullIndexed: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

function functionName(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return `${className(node) ?? '?'}.constructor`;
  const own = node.name?.getText(sf);
  if (own !== undefined && (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node))) {
    const owner = className(node);
    return owner === undefined ? own : `${owner}.${own}`;
  }
  if (own !== undefined) return own;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  return '(anonymous)';
}

function className(node: ts.Node): string | undefined {
  const owner = node.parent;
  return ts.isClassLike(owner) ? (owner.name?.getText() ?? '(class)') : undefined;
}

function lineOf(sf: ts.SourceFile, pos: number): number {
  return sf.getLineAndCharacterOfPosition(pos).line + 1;
}

/** Every function-like node with a body in `files`, longest first. */
export function functionLengths(files: readonly string[], root: string): FunctionLength[] {
  const found: FunctionLength[] = [];
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const start = lineOf(sf, node.getStart(sf));
        const end = lineOf(sf, node.getEnd());
        found.push({ name: functionName(node, sf), file: relative(root, file), line: start, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
}

function isAsConst(node: ts.AsExpression | ts.TypeAssertion): boolean {
  return ts.isTypeReferenceNode(node.type) && node.type.typeName.getText() === 'const';
}

/** Counts of casts, `any` and non-null assertions in `files`. */
export function castCounts(files: readonly string[]): CastCounts {
  let casts = 0;
  let doubleCasts = 0;
  let any = 0;
  let nonNull = 0;
  let nonNullIndexed = 0;
  for (const file of files) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)) && !isAsConst(node)) {
        casts += 1;
        const inner = ts.isAsExpression(node.expression) ? node.expression : undefined;
        if (inner !== undefined && inner.type.kind === ts.SyntaxKind.UnknownKeyword) doubleCasts += 1;
      } else if (node.kind === ts.SyntaxKind.AnyKeyword) {
        any += 1;
      } else if (ts.isNonNullExpression(node)) {
        nonNull += 1;
        if (ts.isElementAccessExpression(node.expression)) nonNullIndexed += 1;
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { casts, doubleCasts, any, nonNull, nonNullIndexed };
}

function option(args: readonly string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  return (at >= 0 ? args[at + 1] : undefined) ?? fallback;
}

function main(args: readonly string[]): void {
  const root = process.cwd();
  const dir = option(args, '--dir', 'src');
  const top = Number(option(args, '--top', '10'));
  const files = sourceFiles(join(root, dir)).sort();
  const longest = functionLengths(files, root).slice(0, top);
  const counts = castCounts(files);
  if (args.includes('--json')) {
    console.log(JSON.stringify({ dir, longest, counts }, null, 2));
    return;
  }
  console.log(`The ${top} longest functions in ${dir}/ (lines, from the line of the signature to the closing brace):`);
  for (const fn of longest) console.log(`${String(fn.lines).padStart(5)}  ${fn.file}:${fn.line}  ${fn.name}`);
  console.log('');
  console.log(`Escape hatches in ${dir}/ (${files.length} files):`);
  console.log(`  casts (as T / <T>x, not as const): ${counts.casts}   of which as unknown as: ${counts.doubleCasts}`);
  console.log(`  any:                                ${counts.any}`);
  console.log(
    `  non-null x!:                        ${counts.nonNull}   on indexed access a[i]!: ${counts.nonNullIndexed}   other: ${counts.nonNull - counts.nonNullIndexed}`,
  );
}

main(process.argv.slice(2));
