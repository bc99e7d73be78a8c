// The module hooks contract-hook.js registers: frontend/contract.js, which only the server
// has, resolves to the generated file.

let contract = "";
let page = "";

export function initialize(data) {
  ({ contract, page } = data);
}

export async function resolve(specifier, context, nextResolve) {
  if (context.parentURL && /contract\.js$/.test(specifier)
      && new URL(specifier, context.parentURL).href === page) {
    return { url: contract, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
