export async function runStrategyFigure() {
  return { title: 'strategies: not yet', table: '', data: null };
}
