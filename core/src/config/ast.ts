/** The parsed form of a pipeline.conf: sections of plugins and branches, every node located. */
export interface Loc {
  file: string;
  line: number;
  column: number;
}

export type Value =
  | { kind: 'string'; value: string; loc: Loc }
  | { kind: 'number'; value: number; loc: Loc }
  | { kind: 'bareword'; value: string; loc: Loc }
  | { kind: 'array'; items: Value[]; loc: Loc }
  | { kind: 'hash'; entries: HashEntry[]; loc: Loc }
  | { kind: 'plugin'; plugin: PluginNode; loc: Loc };

export interface HashEntry {
  key: string;
  keyLoc: Loc;
  value: Value;
}

export interface Attribute {
  name: string;
  loc: Loc;
  value: Value;
}

export interface PluginNode {
  type: 'plugin';
  name: string;
  loc: Loc;
  attributes: Attribute[];
}

export type SectionKind = 'input' | 'filter' | 'correlate' | 'output';

export interface BranchNode {
  type: 'branch';
  loc: Loc;
  /** `if` and `else if` arms in order; `otherwise` is the `else` block. */
  arms: { condition: Expr; body: Statement[] }[];
  otherwise?: Statement[];
}

export type Statement = PluginNode | BranchNode;

export interface Section {
  kind: SectionKind;
  loc: Loc;
  body: Statement[];
}

export interface ConfigAst {
  sections: Section[];
}

// ---- conditional expressions ----

export type CompareOp = '==' | '!=' | '<' | '>' | '<=' | '>=';
export type BoolOp = 'and' | 'or' | 'xor' | 'nand';

export type Expr =
  | { type: 'bool'; op: BoolOp; left: Expr; right: Expr; loc: Loc }
  | { type: 'not'; expr: Expr; loc: Loc }
  | { type: 'compare'; op: CompareOp; left: RValue; right: RValue; loc: Loc }
  | { type: 'regex'; negate: boolean; left: RValue; right: RValue; loc: Loc }
  | { type: 'in'; negate: boolean; left: RValue; right: RValue; loc: Loc }
  | { type: 'truthy'; value: RValue; loc: Loc };

export type RValue =
  | { type: 'field'; ref: string; loc: Loc }
  | { type: 'string'; value: string; loc: Loc }
  | { type: 'number'; value: number; loc: Loc }
  | { type: 'regexp'; source: string; loc: Loc }
  | { type: 'array'; items: RValue[]; loc: Loc };
