/** The cost matrix of a cost-weighted round: costs[i][j] is what predicting class j costs when
 * the truth is class i, classes in the label's sorted order (the server checks the matrix
 * against the label's classes when the data is uploaded). */

export const MAX_COST = 1_000_000;

/** The 0-1 loss as a matrix: every wrong prediction costs 1. */
export function zeroOneCosts(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 0 : 1)));
}

/** The matrix resized to n classes, keeping the costs it already has. */
export function resized(costs: number[][], n: number): number[][] {
  const base = zeroOneCosts(n);
  return base.map((row, i) => row.map((cost, j) => costs[i]?.[j] ?? cost));
}

/** What is wrong with the matrix, or null (the same rules as the server's). */
export function costsProblem(costs: number[][]): string | null {
  const cells = costs.flat();
  if (cells.some((c) => !Number.isInteger(c) || c < 0 || c > MAX_COST)) {
    return `Costs are whole numbers from 0 to ${MAX_COST.toLocaleString("en")}.`;
  }
  if (!costs.some((row, i) => row.some((c, j) => i !== j && c > 0))) {
    return "Some wrong prediction must cost something.";
  }
  return null;
}

function className(i: number, n: number): string {
  if (n === 2) return i === 0 ? "first class (negative)" : "second class (positive)";
  return `class ${i + 1}`;
}

interface Props {
  costs: number[][];
  onChange: (costs: number[][]) => void;
}

export function CostMatrixEditor({ costs, onChange }: Props) {
  const n = costs.length;
  const problem = costsProblem(costs);
  const set = (i: number, j: number, value: number) =>
    onChange(costs.map((row, r) => row.map((c, k) => (r === i && k === j ? value : c))));
  return (
    <fieldset className="cost-matrix">
      <legend>Costs of the model's predictions</legend>
      <div className="field">
        <label htmlFor="cost-classes">Classes of the label</label>
        <input
          id="cost-classes"
          type="number"
          min={2}
          max={20}
          value={n}
          onChange={(e) => {
            const wanted = Math.round(Number(e.target.value));
            if (wanted >= 2 && wanted <= 20) onChange(resized(costs, wanted));
          }}
        />
      </div>
      <table>
        <caption>
          Classes in the label's sorted order; once the data is uploaded the round page says each cost in words.
        </caption>
        <thead>
          <tr>
            <th scope="col">truth ↓ / predicted →</th>
            {costs.map((_, j) => (
              <th scope="col" key={j}>
                {className(j, n)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {costs.map((row, i) => (
            <tr key={i}>
              <th scope="row">{className(i, n)}</th>
              {row.map((cost, j) => (
                <td key={j}>
                  <input
                    type="number"
                    min={0}
                    max={MAX_COST}
                    step={1}
                    value={cost}
                    aria-label={`cost of predicting ${className(j, n)} when the truth is ${className(i, n)}`}
                    onChange={(e) => set(i, j, Number(e.target.value))}
                  />
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </fieldset>
  );
}
