// Public surface of @trellis/ca. Not implemented yet.
export const implemented = false;
