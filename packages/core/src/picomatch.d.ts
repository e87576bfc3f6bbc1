// Minimal typing of picomatch 4 (the package ships none), limited to what globs.ts uses.
declare module 'picomatch' {
  interface PicomatchOptions {
    dot?: boolean;
    basename?: boolean;
    nocase?: boolean;
    nonegate?: boolean;
    strictBrackets?: boolean;
  }
  function picomatch(glob: string | string[], options?: PicomatchOptions): (path: string) => boolean;
  export default picomatch;
}
