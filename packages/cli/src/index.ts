// Public surface of @trellis/cli. Not implemented yet.
export const implemented = false;
