// Public surface of @trellis/local-cluster. Not implemented yet.
export const implemented = false;
