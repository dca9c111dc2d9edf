import { task } from "knitting";

const view = (
  <div className="card" onClick={() => count / 2}>
    it's text with ( parens and {"braces"} and a { `template ${<b>x</b>}` }
    <Item key={1} {...props} />
    <>fragment: export const no = task(...)</>
  </div>
);

export const render = task({ f: (html: string): number => html.length });
export const generic = <T,>(x: T): T => x;
export function Component(props: { title: string }): string { return props.title }
