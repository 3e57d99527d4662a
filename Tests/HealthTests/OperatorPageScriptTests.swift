import Foundation
import Health
import TestSupport
import Testing

/// The page's script run by Node (where installed) against a stand-in DOM, canvas, `fetch` and
/// `EventSource`: it lists the services, draws every plot with its points, follows an event and
/// marks stderr, all without throwing. Not a browser (see OperatorPageProcessTests for Chromium),
/// but it runs on every machine that has `node`, and catches a script error before an operator does.
@Suite(.timeLimit(.minutes(1))) struct OperatorPageScriptTests {
    static let node = ["/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    @Test(.enabled(if: node != nil, "node is not installed")) func scriptRendersWithoutErrors() async throws {
        let (server, port, task) = try await OperatorPageTests.serve(history: HealthHistory())
        let (code, page) = try await httpRequest("GET", "/", port: port)
        await server.stop()
        task.cancel()
        #expect(code == 200)
        let script = try #require(
            page.components(separatedBy: "<script>").last?.components(separatedBy: "</script>").first
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("page-script-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try script.write(to: folder.appendingPathComponent("page.js"), atomically: true, encoding: .utf8)
        try Self.harness.write(to: folder.appendingPathComponent("harness.js"), atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.node))
        process.arguments = [
            folder.appendingPathComponent("harness.js").path, folder.appendingPathComponent("page.js").path,
        ]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let failures = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(failures.isEmpty, "\(failures)")
        #expect(text.contains("rows jack:healthy,session:unhealthy\n"), "\(text)")
        // DSP 4 samples, xruns 3 differences, CPU 3 + 2 (the restart drops one), memory 4 + 4, the
        // session's RPC rate 3 (none in the first sample), its p50 and p95 3 each.
        #expect(text.contains("points 4,3,5,8,3,6\n"), "\(text)")
        #expect(text.contains("after 5 live 1 -,err\n"), "\(text)")
    }

    static let harness = #"""
        const els={};
        function mk(tag){const e={tag,children:[],childNodes:null,dataset:{},style:{},className:"",textContent:"",clientWidth:300,clientHeight:140,scrollTop:0,scrollHeight:0,
         append(...c){this.children.push(...c)},replaceChildren(){this.children=[]},remove(){},
         getContext(){return new Proxy({},{get:(t,k)=>k in t?t[k]:()=>{} ,set:(t,k,v)=>{t[k]=v;return true}})}};
         Object.defineProperty(e,"childNodes",{get(){return e.children}});Object.defineProperty(e,"firstChild",{get(){return {remove(){e.children.shift()}}}});
         Object.defineProperty(e,"id",{set(v){els[v]=e},get(){return ""}});return e}
        global.document={getElementById:i=>els[i]||(els[i]=mk("x")),createElement:mk,body:{}};
        global.getComputedStyle=()=>({color:"#fff",getPropertyValue:()=>"#333"});
        global.devicePixelRatio=1;global.addEventListener=()=>{};global.confirm=()=>true;global.alert=console.error;
        let handlers={};
        global.EventSource=function(u){this.addEventListener=(n,f)=>handlers[n]=f};
        const now=Date.now()/1e3;
        const hist={interval_s:2,recent:[0,1,2,3].map(i=>({t:now-8+2*i,dsp:0.1*i,xruns:i,s:{jack:["healthy",1+i*0.02,5e6,0,0.001],session:["healthy",i==2?0.1:0.5+i*0.01,3e6,i>=2?1:0,null].concat(i?[2.5,0.0004,0.0012]:[])}})),coarse:[],logs:{jack:["2026 stdout hi","2026 stderr bad"]}};
        const health={status:"healthy",services:[{name:"jack",state:"healthy",pid:1,uptime_s:100,restarts:0,last_exit:null,probe:{latency_ms:1.2},message:null},{name:"session",state:"unhealthy",pid:null,uptime_s:null,restarts:1,last_exit:{code:null,signal:"SIGKILL",at:new Date().toISOString()},probe:null,message:"<b>x</b>"}]};
        global.fetch=u=>Promise.resolve({ok:true,json:()=>Promise.resolve(u=="/history"?hist:health)});
        require(process.argv[2]);
        setTimeout(()=>{
         console.log("rows "+els.rows.children.map(r=>r.dataset.service+":"+r.dataset.state).join(","));
         console.log("points "+["dsp","xruns","cpu","rss","rpc","latency"].map(id=>els[id].dataset.points).join(","));
         handlers.sample({data:JSON.stringify({health,sample:{t:now+2,dsp:0.5,xruns:5,s:{jack:["healthy",1.2,5e6,0,null]}},logs:{session:["2026 stdout new"]}})});
         console.log("after "+els.dsp.dataset.points+" "+els.live.textContent.slice(0,4)+" "+els["log-session"].children.length+" "+els["log-jack"].children.map(c=>c.className||"-").join(","));
        },50);
        """#
}
