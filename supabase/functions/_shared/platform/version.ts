/** The release this code is; bump it with every deploy-worthy change. */
export const HOTLINE_VERSION = "0.1.0";
