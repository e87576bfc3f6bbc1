// Variables set on this process for an in-process component whose SDK reads them itself (the AWS
// SDK's credential chain in the worker's gateway), put back as they were afterwards.

/** Sets the variables and returns what puts every one of them back (deleting those that were unset). */
export function setProcessEnv(vars: Readonly<Record<string, string>>): () => void {
  const saved = Object.keys(vars).map((name) => [name, process.env[name]] as const);
  Object.assign(process.env, vars);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
