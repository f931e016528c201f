fn main() {
    println!("strowger");
}
